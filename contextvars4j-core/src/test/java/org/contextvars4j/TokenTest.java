package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Tests of {@link Token}: every row of its table in API.md, and its use as a resource. */
// "try": a scope or token held by try-with-resources and never named in the body is the idiom.
@SuppressWarnings("try")
@ExtendWith(RestoresContext.class)
final class TokenTest {

  private static final ContextVar<String> USER = ContextVar.named("user");
  private static final ContextVar<Integer> LEVEL = ContextVar.named("level", 3);


  /* ---- var ---- */

  @Test
  void var_isTheVariableThatSet() {
    Token<String> token = new Context().call(() -> USER.set("ann"));

    assertThat(token.var()).isSameAs(USER);
  }

  /* ---- hasOldValue / oldValue ---- */

  @Test
  void oldValue_firstSet_hasNoneAndThrowsNoSuchElementNamingVariable() {
    Token<String> token = new Context().call(() -> USER.set("ann"));

    assertThat(token.hasOldValue()).isFalse();
    assertThatThrownBy(token::oldValue)
        .isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("user");
  }

  @Test
  void oldValue_secondSet_isFirstValue() {
    Token<String> token =
        new Context()
            .call(
                () -> {
                  USER.set("ann");
                  return USER.set("bob");
                });

    assertThat(token.hasOldValue()).isTrue();
    assertThat(token.oldValue()).isEqualTo("ann");
  }

  @Test
  void oldValue_previousNull_isNull() {
    Token<String> token =
        new Context()
            .call(
                () -> {
                  USER.set(null);
                  return USER.set("bob");
                });

    assertThat(token.hasOldValue()).as("a bound null is an old value").isTrue();
    assertThat(token.oldValue()).isNull();
  }

  @Test
  void oldValue_onlyDefaultBefore_hasNone() {
    Token<Integer> token = new Context().call(() -> LEVEL.set(5));

    assertThat(token.hasOldValue()).as("a default is not a value in the context").isFalse();
  }

  @Test
  void oldValue_afterReset_unchanged() {
    Token<String> token =
        new Context()
            .call(
                () -> {
                  USER.set("ann");
                  Token<String> t = USER.set("bob");
                  USER.reset(t);
                  return t;
                });

    assertThat(token.oldValue()).isEqualTo("ann");
    assertThat(token.isUsed()).isTrue();
  }

  /* ---- close ---- */

  @Test
  void close_tryWithResources_restoresPreviousValue() {
    new Context()
        .run(
            () -> {
              USER.set("ann");
              try (Token<String> ignored = USER.set("bob")) {
                assertThat(USER.get()).isEqualTo("bob");
              }
              assertThat(USER.get()).isEqualTo("ann");
            });
  }

  @Test
  void close_firstSet_unbindsVariable() {
    Context context = new Context();

    context.run(
        () -> {
          try (Token<String> ignored = USER.set("bob")) {
            assertThat(USER.get()).isEqualTo("bob");
          }
          assertThat(USER.isBound()).isFalse();
        });

    assertThat(context.size()).isZero();
  }

  @Test
  void close_bodyThrows_restoresAndPropagates() {
    RuntimeException failure = new RuntimeException("body");

    new Context()
        .run(
            () -> {
              USER.set("ann");
              assertThatThrownBy(
                      () -> {
                        try (Token<String> ignored = USER.set("bob")) {
                          throw failure;
                        }
                      })
                  .isSameAs(failure);
              assertThat(USER.get()).isEqualTo("ann");
            });
  }

  @Test
  void close_twice_throwsIllegalState() {
    new Context()
        .run(
            () -> {
              Token<String> token = USER.set("bob");
              token.close();
              USER.set("carl");

              assertThatIllegalStateException()
                  .isThrownBy(token::close)
                  .withMessageContaining("already been used");
              assertThat(USER.get()).as("the failed close changed nothing").isEqualTo("carl");
            });
  }

  @Test
  void close_afterReset_throwsIllegalState() {
    new Context()
        .run(
            () -> {
              Token<String> token = USER.set("bob");
              USER.reset(token);

              assertThatIllegalStateException().isThrownBy(token::close);
            });
  }

  @Test
  void close_afterFailedClose_canStillClose() {
    Context context = new Context();
    Token<String> token = context.call(() -> USER.set("bob"));

    assertThatIllegalArgumentException()
        .as("closed outside the context where the set was made")
        .isThrownBy(token::close)
        .withMessageContaining("another Context");
    assertThat(token.isUsed()).isFalse();
    assertThat(context.get(USER)).isEqualTo("bob");

    context.run(token::close);

    assertThat(context.containsKey(USER)).isFalse();
    assertThat(token.isUsed()).isTrue();
  }

  /* ---- isUsed / toString ---- */

  @Test
  void isUsed_falseUntilReset() {
    new Context()
        .run(
            () -> {
              Token<String> token = USER.set("bob");
              assertThat(token.isUsed()).isFalse();
              token.close();
              assertThat(token.isUsed()).isTrue();
            });
  }

  @Test
  void toString_namesVariableAndUse() {
    new Context()
        .run(
            () -> {
              Token<String> token = USER.set("bob");
              assertThat(token).hasToString("Token[var=user]");
              token.close();
              assertThat(token).hasToString("Token[var=user, used]");
            });
  }
}
