package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tests of the thread's overlay of recent sets (ThreadState): the newest set held apart, older
 * ones in slots, folds into the frame's mapping, and nested frames sharing the slots, each case
 * at the boundary where one representation turns into another.
 */
@ExtendWith(RestoresContext.class)
final class OverlayTest {

  private static final ContextVar<String> A = ContextVar.named("a");
  private static final ContextVar<String> B = ContextVar.named("b");

  /* ---- old values across the newest set and the older slots ---- */

  @Test
  void set_afterTheNewestWasUndone_findsTheOldValueInAnOlderSlot() {
    new Context()
        .run(
            () -> {
              A.set("first");
              Token<String> b = B.set("b"); // A moves to an older slot
              B.reset(b); // A is in a slot, nothing is newest
              Token<String> again = A.set("second");

              assertThat(again.oldValue()).isEqualTo("first");
              A.reset(again);
              assertThat(A.get()).isEqualTo("first");
            });
  }

  @Test
  void set_ofAVariableInAnOlderSlot_takesItsValueThereAsTheOldValue() {
    new Context()
        .run(
            () -> {
              A.set("first");
              B.set("b");
              Token<String> again = A.set("second"); // A's first value is under B

              assertThat(again.oldValue()).isEqualTo("first");
              A.reset(again);
              assertThat(Context.copyCurrent().asMap()).isEqualTo(Map.of(A, "first", B, "b"));
            });
  }

  /* ---- folds ---- */

  @Test
  void resets_inReverseOrder_acrossFolds_restoreEachMappingInTurn() {
    ContextVar<?>[] vars = new ContextVar<?>[3 * ThreadState.MAX_OVERLAY + 1];
    for (int i = 0; i < vars.length; i++) {
      vars[i] = ContextVar.named("v" + i);
    }
    new Context()
        .run(
            () -> {
              Deque<Token<Object>> tokens = new ArrayDeque<>();
              Deque<Map<ContextVar<?>, Object>> before = new ArrayDeque<>();
              for (int i = 0; i < vars.length; i++) {
                before.push(Context.copyCurrent().asMap());
                tokens.push(cast(vars[i % 5]).set(i));
              }
              while (!tokens.isEmpty()) {
                Token<Object> token = tokens.pop();
                token.var().reset(token);
                assertThat(Context.copyCurrent().asMap())
                    .as("after undoing the set of %s", token.var())
                    .isEqualTo(before.pop());
              }
            });
  }

  @Test
  void resets_inRandomOrder_bindTheOldValuesAsPythonDoes() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    ContextVar<?>[] vars = new ContextVar<?>[6];
    for (int i = 0; i < vars.length; i++) {
      vars[i] = ContextVar.named("r" + i);
    }
    for (int round = 0; round < 200; round++) {
      new Context()
          .run(
              () -> {
                Map<ContextVar<?>, Object> model = new HashMap<>();
                java.util.List<Token<Object>> open = new java.util.ArrayList<>();
                java.util.List<Object> olds = new java.util.ArrayList<>();
                for (int step = 0; step < 40; step++) {
                  if (open.isEmpty() || random.nextInt(3) != 0) {
                    ContextVar<Object> var = cast(vars[random.nextInt(vars.length)]);
                    olds.add(model.containsKey(var) ? model.get(var) : ContextVar.UNBOUND);
                    open.add(var.set(step));
                    model.put(var, step);
                  } else {
                    int which = random.nextInt(open.size());
                    Token<Object> token = open.remove(which);
                    Object old = olds.remove(which);
                    token.var().reset(token);
                    if (old == ContextVar.UNBOUND) {
                      model.remove(token.var());
                    } else {
                      model.put(token.var(), old);
                    }
                  }
                  assertThat(Context.copyCurrent().asMap())
                      .as("seed %d, step %d", seed, step)
                      .isEqualTo(model);
                  for (ContextVar<?> var : vars) {
                    assertThat(var.isBound()).as("seed %d", seed).isEqualTo(model.containsKey(var));
                  }
                }
              });
    }
  }

  /* ---- copies ---- */

  @Test
  void copyCurrent_afterAResetAndAnotherSetOfTheSameSlot_holdsTheNewValue() {
    new Context()
        .run(
            () -> {
              Token<String> first = A.set("first");
              Context one = Context.copyCurrent();
              A.reset(first);
              A.set("second");
              Context two = Context.copyCurrent();

              assertThat(one.get(A)).isEqualTo("first");
              assertThat(two.get(A)).isEqualTo("second");
            });
  }

  /* ---- reading an entered context on its own thread ---- */

  @Test
  void contextRead_whileCurrent_seesTheSetsMadeSinceItWasEntered() {
    Context context = new Context();
    context.run(
        () -> {
          A.set("a");
          B.set("b");

          assertThat(context.get(A)).isEqualTo("a");
          assertThat(context.size()).isEqualTo(2);
          assertThat(context.copy().asMap()).isEqualTo(Map.of(A, "a", B, "b"));
        });
  }

  @Test
  void contextRead_whileANestedContextRunsAboveIt_seesItsOwnSetsOnly() {
    Context outer = new Context();
    outer.run(
        () -> {
          A.set("outer");
          B.set("outer b");
          new Context()
              .run(
                  () -> {
                    A.set("inner");
                    assertThat(outer.get(A)).isEqualTo("outer");
                    assertThat(outer.asMap()).isEqualTo(Map.of(A, "outer", B, "outer b"));
                  });
          assertThat(A.get()).isEqualTo("outer");
        });
    assertThat(outer.asMap()).isEqualTo(Map.of(A, "outer", B, "outer b"));
  }

  @Test
  void contextRead_fromAnotherThreadWhileItRuns_seesItAsEnteredThenItsSetsAfterTheExit()
      throws Exception {
    Context context = new Context();
    context.run(() -> A.set("before"));
    CountDownLatch setMade = new CountDownLatch(1);
    CountDownLatch readDone = new CountDownLatch(1);
    CompletableFuture<String> duringRun =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                assertThat(setMade.await(10, TimeUnit.SECONDS)).isTrue();
                return context.get(A);
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              } finally {
                readDone.countDown();
              }
            });
    context.run(
        () -> {
          A.set("during");
          setMade.countDown();
          try {
            assertThat(readDone.await(10, TimeUnit.SECONDS)).isTrue();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });

    assertThat(duringRun.get(10, TimeUnit.SECONDS))
        .as("a running context's sets reach other threads when it is left")
        .isEqualTo("before");
    assertThat(context.get(A)).isEqualTo("during");
  }

  /* ---- tokens and frames ---- */

  @Test
  void reset_ofAnOuterSetInsideANestedContext_throwsAndTheOuterResetWorksAfterwards() {
    new Context()
        .run(
            () -> {
              Token<String> outer = A.set("outer");
              new Context()
                  .run(
                      () -> {
                        B.set("inner");
                        assertThatIllegalArgumentException()
                            .isThrownBy(() -> A.reset(outer))
                            .withMessageContaining("another Context");
                      });
              ThreadState state = ThreadState.current();
              int top = state.top;
              A.reset(outer);
              assertThat(state.top).as("the clear-a-slot path").isEqualTo(top - 1);
              assertThat(A.isBound()).isFalse();
            });
  }

  @Test
  void reset_inALaterRunOfTheSameContext_restoresAsPythonDoes() {
    Context context = new Context();
    Token<String> token = context.call(() -> A.set("set in the first run"));
    context.run(
        () -> {
          A.reset(token);
          assertThat(A.isBound()).isFalse();
        });
    assertThat(context.containsKey(A)).isFalse();
  }

  @Test
  void reset_ofATokenOfAnotherThreadsBaseContext_throwsIllegalArgument() throws Exception {
    Token<String> foreign =
        CompletableFuture.supplyAsync(
                () -> {
                  Token<String> token = A.set("theirs");
                  A.reset(A.set("again")); // leave their base context as it was, but for A
                  return token;
                },
                runnable -> new Thread(runnable).start())
            .get(10, TimeUnit.SECONDS);

    assertThatIllegalArgumentException()
        .isThrownBy(() -> A.reset(foreign))
        .withMessageContaining("another Context");
    assertThat(A.isBound()).isFalse();
  }

  @Test
  void reset_insideAWrappersTask_ofATokenOfTheThreadsOwnContext_throwsAndTheTaskSetsItsOwn() {
    Token<String> own = A.set("the thread's");
    org.contextvars4j.concurrent.ContextExecutors.capture(
            () -> {
              assertThatIllegalArgumentException()
                  .isThrownBy(() -> A.reset(own))
                  .withMessageContaining("another Context");
              Token<String> inTask = B.set("the task's");
              assertThat(A.get()).isEqualTo("the thread's");
              B.reset(inTask);
              assertThat(B.isBound()).isFalse();
              assertThatIllegalArgumentException()
                  .isThrownBy(() -> A.reset(own))
                  .withMessageContaining("another Context");
            })
        .run();
    assertThat(B.isBound()).isFalse();
    A.reset(own);
    assertThat(A.isBound()).isFalse();
  }

  @SuppressWarnings("unchecked")
  private static ContextVar<Object> cast(ContextVar<?> var) {
    return (ContextVar<Object>) var;
  }
}
