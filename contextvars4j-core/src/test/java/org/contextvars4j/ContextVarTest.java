package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tests of {@link ContextVar}: every row of its table in API.md, and reads across contexts. */
@ExtendWith(RestoresContext.class)
final class ContextVarTest {


  /* ---- named ---- */

  @Test
  void named_withName_hasThatNameAndNoDefault() {
    ContextVar<String> var = ContextVar.named("request_id");

    assertThat(var.name()).isEqualTo("request_id");
    assertThat(var.hasDefault()).isFalse();
  }

  @Test
  void named_withDefault_hasThatNameAndDefault() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    assertThat(var.name()).isEqualTo("level");
    assertThat(var.hasDefault()).isTrue();
  }

  @Test
  void named_withNullDefault_hasDefault() {
    ContextVar<String> var = ContextVar.named("x", null);

    assertThat(var.hasDefault()).as("a null default is a default, distinct from none").isTrue();
  }

  @Test
  void named_emptyName_isAllowed() {
    assertThat(ContextVar.named("").name()).isEmpty();
  }

  /* ---- equals / hashCode ---- */

  @Test
  void equals_sameNameTwice_differentVariables() {
    ContextVar<String> first = ContextVar.named("same");
    ContextVar<String> second = ContextVar.named("same");

    assertThat(first).isNotEqualTo(second).isEqualTo(first);
    new Context()
        .run(
            () -> {
              first.set("one");
              second.set("two");
              assertThat(first.get()).as("same name, yet separate keys").isEqualTo("one");
              assertThat(second.get()).isEqualTo("two");
              assertThat(Context.copyCurrent().size()).isEqualTo(2);
            });
  }

  @Test
  void hashCode_isStable() {
    ContextVar<String> var = ContextVar.named("x");
    int hash = var.hashCode();

    new Context().run(() -> var.set("value"));

    assertThat(var.hashCode()).isEqualTo(hash);
  }

  /* ---- get ---- */

  @Test
  void get_unboundWithoutDefault_throwsNoSuchElementNamingVariable() {
    ContextVar<String> var = ContextVar.named("request_id");

    assertThatThrownBy(var::get)
        .isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("request_id");
  }

  @Test
  void get_unboundWithDefault_returnsDefault() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    assertThat(var.get()).isEqualTo(3);
  }

  @Test
  void get_unboundWithNullDefault_returnsNull() {
    ContextVar<String> withNullDefault = ContextVar.named("x", null);
    ContextVar<String> withoutDefault = ContextVar.named("x");

    assertThat(withNullDefault.get()).isNull();
    assertThatThrownBy(withoutDefault::get)
        .as("no default is not the same as a null default")
        .isInstanceOf(NoSuchElementException.class);
  }

  @Test
  void get_bound_returnsValueNotDefault() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    new Context()
        .run(
            () -> {
              var.set(7);
              assertThat(var.get()).isEqualTo(7);
            });
  }

  @Test
  void get_boundToNull_returnsNullNotDefault() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    new Context()
        .run(
            () -> {
              var.set(null);
              assertThat(var.get()).as("a bound null is a value").isNull();
              assertThat(var.isBound()).isTrue();
            });
  }

  @Test
  void get_alternatingContexts_seesEachContextsOwnValue() {
    // Reads follow the thread from context to context: switching contexts must never serve a
    // value from another mapping.
    ContextVar<String> var = ContextVar.named("x");
    Context a = new Context();
    Context b = new Context();
    a.run(() -> var.set("a"));
    b.run(() -> var.set("b"));

    for (int i = 0; i < 3; i++) {
      a.run(() -> assertThat(var.get()).isEqualTo("a"));
      b.run(() -> assertThat(var.get()).isEqualTo("b"));
      assertThat(var.isBound()).as("unbound in the base context").isFalse();
    }
  }

  @Test
  void get_afterSetInSameContext_seesNewValueDespiteCache() {
    ContextVar<String> var = ContextVar.named("x", "default");

    new Context()
        .run(
            () -> {
              assertThat(var.get()).isEqualTo("default");
              var.set("one");
              assertThat(var.get()).isEqualTo("one");
              var.set("two");
              assertThat(var.get()).isEqualTo("two");
            });
  }

  @Test
  void get_contextChangedOnAnotherThread_seesNewValue() throws Exception {
    ContextVar<String> var = ContextVar.named("x");
    Context context = new Context();
    context.run(() -> var.set("before"));
    context.run(() -> assertThat(var.get()).isEqualTo("before"));

    ThreadKinds.run(
        Thread.ofPlatform().daemon().factory(), () -> context.run(() -> var.set("after")));

    context.run(() -> assertThat(var.get()).isEqualTo("after"));
  }

  /* ---- getOrDefault ---- */

  @Test
  void getOrDefault_unbound_returnsFallbackNotVarDefault() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    assertThat(var.getOrDefault(9))
        .as("the fallback wins over the variable's default")
        .isEqualTo(9);
  }

  @Test
  void getOrDefault_unboundNullFallback_returnsNull() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    assertThat(var.getOrDefault(null)).isNull();
  }

  @Test
  void getOrDefault_bound_returnsValue() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    new Context()
        .run(
            () -> {
              var.set(5);
              assertThat(var.getOrDefault(9)).isEqualTo(5);
            });
  }

  @Test
  void getOrDefault_boundToNull_returnsNullNotFallback() {
    ContextVar<Integer> var = ContextVar.named("level");

    new Context()
        .run(
            () -> {
              var.set(null);
              assertThat(var.getOrDefault(9)).isNull();
            });
  }

  /* ---- isBound ---- */

  @Test
  void isBound_ignoresDefault() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    new Context()
        .run(
            () -> {
              assertThat(var.isBound()).isFalse();
              Token<Integer> token = var.set(3);
              assertThat(var.isBound()).isTrue();
              var.reset(token);
              assertThat(var.isBound()).isFalse();
            });
  }

  /* ---- set ---- */

  @Test
  void set_bindsInCurrentContextOnly() {
    ContextVar<String> var = ContextVar.named("x");
    Context context = new Context();

    context.run(
        () -> {
          Context before = Context.copyCurrent();
          var.set("value");
          assertThat(var.get()).isEqualTo("value");
          assertThat(before.containsKey(var)).as("a copy taken before the set").isFalse();
        });

    assertThat(context.get(var)).as("recorded in the context that was current").isEqualTo("value");
    assertThat(var.isBound()).as("not in the test thread's own context").isFalse();
  }

  @Test
  void set_null_bindsNull() {
    ContextVar<String> var = ContextVar.named("x", "default");
    Context context = new Context();

    context.run(() -> var.set(null));

    assertThat(context.containsKey(var)).isTrue();
    assertThat(context.get(var)).isNull();
  }

  @Test
  void set_returnsTokenOfThisVariable() {
    ContextVar<String> var = ContextVar.named("x");

    new Context()
        .run(
            () -> {
              Token<String> first = var.set("one");
              Token<String> second = var.set("two");

              assertThat(first.var()).isSameAs(var);
              assertThat(first.hasOldValue()).isFalse();
              assertThat(second.hasOldValue()).isTrue();
              assertThat(second.oldValue()).isEqualTo("one");
              assertThat(first.isUsed()).isFalse();
            });
  }

  @Test
  void set_sameValueAgain_stillReturnsUsableToken() {
    ContextVar<String> var = ContextVar.named("x");
    String value = "same";

    new Context()
        .run(
            () -> {
              Token<String> first = var.set(value);
              Token<String> second = var.set(value);
              var.reset(second);
              assertThat(var.get()).isSameAs(value);
              var.reset(first);
              assertThat(var.isBound()).isFalse();
            });
  }

  /* ---- reset ---- */

  @Test
  void reset_afterSet_restoresPreviousValue() {
    ContextVar<String> var = ContextVar.named("x");

    new Context()
        .run(
            () -> {
              var.set("one");
              Token<String> token = var.set("two");
              var.reset(token);
              assertThat(var.get()).isEqualTo("one");
              assertThat(token.isUsed()).isTrue();
            });
  }

  @Test
  void reset_afterFirstSet_unbindsVariable() {
    ContextVar<Integer> var = ContextVar.named("level", 3);
    Context context = new Context();

    context.run(
        () -> {
          Token<Integer> token = var.set(5);
          var.reset(token);
          assertThat(var.isBound()).isFalse();
          assertThat(var.get()).as("back to the default").isEqualTo(3);
        });

    assertThat(context.containsKey(var)).as("removed, not bound to the default").isFalse();
    assertThat(context.size()).isZero();
  }

  @Test
  void reset_oldValueNull_restoresNullBinding() {
    ContextVar<String> var = ContextVar.named("x", "default");
    Context context = new Context();

    context.run(
        () -> {
          var.set(null);
          Token<String> token = var.set("value");
          var.reset(token);
        });

    assertThat(context.containsKey(var)).as("null was a value, so it comes back").isTrue();
    assertThat(context.get(var)).isNull();
  }

  @Test
  void reset_rightAfterSet_restoresTheVeryPreviousMapping() {
    ContextVar<String> var = ContextVar.named("x");
    ContextVar<String> other = ContextVar.named("other");

    new Context()
        .run(
            () -> {
              other.set("kept");
              var.set("old");
              Map<ContextVar<?>, Object> before = Context.copyCurrent().asMap();
              ThreadState state = ThreadState.current();
              int topBefore = state.top;
              long epochBefore = state.epoch;
              Object baseBefore = state.frameVars();

              Token<String> token = var.set("new");
              assertThat(state.top).as("a set pushes one slot").isEqualTo(topBefore + 1);
              var.reset(token);

              assertThat(Context.copyCurrent().asMap()).isEqualTo(before);
              assertThat(state.top)
                  .as("the O(1) path clears the set's slot and nothing else")
                  .isEqualTo(topBefore);
              assertThat(state.epoch).isEqualTo(epochBefore);
              assertThat(state.frameVars()).isSameAs(baseBefore);
            });
  }

  @Test
  void reset_afterLaterSetsOfOtherVariables_restoresOnlyThisVariable() {
    ContextVar<String> var = ContextVar.named("x");
    ContextVar<String> other = ContextVar.named("other");

    new Context()
        .run(
            () -> {
              var.set("old");
              Token<String> token = var.set("new");
              other.set("set later");

              var.reset(token);

              assertThat(Context.copyCurrent().asMap())
                  .as("the later set of another variable survives the reset")
                  .isEqualTo(Map.of(var, "old", other, "set later"));
            });
  }

  @Test
  void reset_outOfOrder_restoresEachTokensOldValue() {
    // As CPython: a reset restores the value from before its own set, whatever came after.
    ContextVar<String> var = ContextVar.named("x");

    new Context()
        .run(
            () -> {
              Token<String> first = var.set("one");
              Token<String> second = var.set("two");

              var.reset(first);
              assertThat(var.isBound()).isFalse();

              var.reset(second);
              assertThat(var.get()).isEqualTo("one");
            });
  }

  @Test
  void reset_usedToken_throwsIllegalState() {
    ContextVar<String> var = ContextVar.named("x");

    new Context()
        .run(
            () -> {
              Token<String> token = var.set("value");
              var.reset(token);
              var.set("later");

              assertThatIllegalStateException()
                  .isThrownBy(() -> var.reset(token))
                  .withMessageContaining("already been used");
              assertThat(var.get()).as("the failed reset changed nothing").isEqualTo("later");
            });
  }

  @Test
  void reset_tokenOfOtherVar_throwsIllegalArgument() {
    ContextVar<String> var = ContextVar.named("x");
    ContextVar<String> other = ContextVar.named("other");

    new Context()
        .run(
            () -> {
              Token<String> token = other.set("value");

              assertThatIllegalArgumentException()
                  .isThrownBy(() -> var.reset(token))
                  .withMessageContaining("another variable")
                  .withMessageContaining("x")
                  .withMessageContaining("other");
              assertThat(other.get()).isEqualTo("value");
              assertThat(token.isUsed()).isFalse();
            });
  }

  @Test
  void reset_tokenOfOtherContext_throwsIllegalArgument() {
    ContextVar<String> var = ContextVar.named("x");
    Context context = new Context();
    Token<String> token = context.call(() -> var.set("value"));

    new Context()
        .run(
            () ->
                assertThatIllegalArgumentException()
                    .isThrownBy(() -> var.reset(token))
                    .withMessageContaining("another Context"));
    assertThatIllegalArgumentException()
        .as("the test thread's base context is another context too")
        .isThrownBy(() -> var.reset(token));

    assertThat(context.get(var)).isEqualTo("value");
    assertThat(token.isUsed()).isFalse();
  }

  @Test
  void reset_inCopyOfTokensContext_throwsIllegalArgument() {
    ContextVar<String> var = ContextVar.named("x");
    Context context = new Context();
    Token<String> token = context.call(() -> var.set("value"));
    Context copy = context.copy();

    copy.run(
        () ->
            assertThatIllegalArgumentException()
                .as("a token belongs to the Context object, not to its mapping")
                .isThrownBy(() -> var.reset(token)));
    assertThat(token.isUsed()).isFalse();
  }

  @Test
  void reset_usedTokenOfOtherVar_throwsIllegalStateFirst() {
    ContextVar<String> var = ContextVar.named("x");
    ContextVar<String> other = ContextVar.named("other");

    new Context()
        .run(
            () -> {
              Token<String> token = other.set("value");
              other.reset(token);

              assertThatIllegalStateException()
                  .as("'used' is checked before 'other variable'")
                  .isThrownBy(() -> var.reset(token));
            });
  }

  @Test
  void reset_usedTokenOfOtherContext_throwsIllegalStateFirst() {
    ContextVar<String> var = ContextVar.named("x");
    Context context = new Context();
    Token<String> token =
        context.call(
            () -> {
              Token<String> t = var.set("value");
              var.reset(t);
              return t;
            });

    assertThatIllegalStateException()
        .as("'used' is checked before 'other context'")
        .isThrownBy(() -> var.reset(token));
  }

  @Test
  void reset_tokenOfOtherVarFromOtherContext_throwsIllegalArgumentForVariableFirst() {
    ContextVar<String> var = ContextVar.named("x");
    ContextVar<String> other = ContextVar.named("other");
    Token<String> token = new Context().call(() -> other.set("value"));

    assertThatIllegalArgumentException()
        .as("'other variable' is checked before 'other context'")
        .isThrownBy(() -> var.reset(token))
        .withMessageContaining("another variable");
  }

  @Test
  void reset_failed_changesNothingAndLeavesTokenUsable() {
    ContextVar<String> var = ContextVar.named("x");
    ContextVar<String> other = ContextVar.named("other");
    Context context = new Context();

    context.run(
        () -> {
          var.set("old");
          Token<String> token = var.set("new");
          Map<ContextVar<?>, Object> before = Context.copyCurrent().asMap();

          // Wrong variable, in the right context.
          assertThatIllegalArgumentException().isThrownBy(() -> other.reset(token));
          // Right variable, in the wrong context.
          new Context()
              .run(() -> assertThatIllegalArgumentException().isThrownBy(() -> var.reset(token)));

          assertThat(Context.copyCurrent().asMap()).isEqualTo(before);
          assertThat(token.isUsed()).isFalse();

          var.reset(token);
          assertThat(var.get()).as("the token still works where it belongs").isEqualTo("old");
        });
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void reset_tokenFromAnotherThreadsBaseContext_throwsIllegalArgument(ThreadFactory factory)
      throws Exception {
    ContextVar<String> var = ContextVar.named("x");
    // The other thread sets in its own base context; the token cannot be used here.
    Token<String> token = ThreadKinds.call(factory, () -> var.set("there"));

    assertThatIllegalArgumentException()
        .isThrownBy(() -> var.reset(token))
        .withMessageContaining("another Context");
    assertThat(token.isUsed()).isFalse();
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void reset_sameContextRunOnAnotherThread_restores(ThreadFactory factory) throws Exception {
    ContextVar<String> var = ContextVar.named("x");
    Context context = new Context();
    context.run(() -> var.set("old"));
    Token<String> token = context.call(() -> var.set("new"));

    ThreadKinds.run(factory, () -> context.run(() -> var.reset(token)));

    assertThat(context.get(var))
        .as("a token belongs to a Context object, not to a thread")
        .isEqualTo("old");
    assertThat(token.isUsed()).isTrue();
  }

  /* ---- toString ---- */

  @Test
  void toString_noDefault_showsNone() {
    assertThat(ContextVar.named("request_id"))
        .hasToString("ContextVar[name=request_id, default=none]");
  }

  @Test
  void toString_withDefault_showsDefault() {
    assertThat(ContextVar.named("level", 3)).hasToString("ContextVar[name=level, default=3]");
  }

  @Test
  void toString_stringDefault_isQuoted_soDefaultNoneDiffersFromNoDefault() {
    assertThat(ContextVar.named("mode", "none")).hasToString("ContextVar[name=mode, default=\"none\"]");
    assertThat(ContextVar.named("mode")).hasToString("ContextVar[name=mode, default=none]");
  }

  @Test
  void toString_nullDefault_showsNull() {
    assertThat(ContextVar.named("x", null)).hasToString("ContextVar[name=x, default=null]");
  }

  @Test
  void toString_doesNotShowBoundValue() {
    ContextVar<Integer> var = ContextVar.named("level", 3);

    new Context()
        .run(
            () -> {
              var.set(5);
              assertThat(var).hasToString("ContextVar[name=level, default=3]");
            });
  }

  @Test
  void toString_defaultRefersBackToVariable_showsEllipsis() {
    List<Object> list = new ArrayList<>();
    ContextVar<List<Object>> var = ContextVar.named("a", list);
    list.add(var);

    assertThat(var.toString())
        .isEqualTo("ContextVar[name=a, default=[ContextVar[name=a, default=...]]]");
    assertThat(list.toString()).contains("...");
    assertThat(var.toString())
        .as("the same again: no state is left behind")
        .isEqualTo(var.toString());
  }

  @Test
  void toString_twoVariablesReferringToEachOther_doesNotThrow() {
    List<Object> firstDefault = new ArrayList<>();
    List<Object> secondDefault = new ArrayList<>();
    ContextVar<List<Object>> first = ContextVar.named("first", firstDefault);
    ContextVar<List<Object>> second = ContextVar.named("second", secondDefault);
    firstDefault.add(second);
    secondDefault.add(first);

    assertThat(first.toString())
        .isEqualTo(
            "ContextVar[name=first, default=[ContextVar[name=second, default="
                + "[ContextVar[name=first, default=...]]]]]");
  }

  @Test
  void toString_defaultToStringThrows_doesNotThrow() {
    ContextVar<Object> var =
        ContextVar.named("broken", new ThrowingToString(new IllegalStateException("boom")));

    assertThatNoException().isThrownBy(var::toString);
    assertThat(var.toString()).startsWith("ContextVar[name=broken, default=").endsWith("]");
  }

  @Test
  void toString_defaultToStringThrowsCheckedException_doesNotThrow() {
    // Kotlin, Lombok's @SneakyThrows or a proxy can throw a checked exception from toString.
    ContextVar<Object> var =
        ContextVar.named("broken", new ThrowingToString(new IOException("io")));

    assertThatNoException().isThrownBy(var::toString);
    assertThat(var.toString()).startsWith("ContextVar[name=broken, default=");
  }

  @Test
  void toString_defaultToStringRecursesForever_doesNotThrow() {
    ContextVar<Object> var =
        ContextVar.named(
            "deep",
            new Object() {
              @Override
              public String toString() {
                return "again " + this;
              }
            });

    assertThatNoException().isThrownBy(var::toString);
    assertThat(var.toString()).startsWith("ContextVar[name=deep, default=");
  }

  /* ---- helpers ---- */

  /** A value whose {@code toString} throws the given exception, checked or not. */
  private static final class ThrowingToString {
    private final Exception failure;

    ThrowingToString(Exception failure) {
      this.failure = failure;
    }

    @Override
    public String toString() {
      throw ThrowingToString.<RuntimeException>sneaky(failure);
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> E sneaky(Exception e) throws E {
      throw (E) e;
    }
  }
}
