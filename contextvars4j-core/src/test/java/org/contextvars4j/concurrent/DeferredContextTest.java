package org.contextvars4j.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task of the wrappers runs in a private context that no one else can reach, entered without a
 * compare-and-set and left without a write-back. These tests run tasks inline, on the test
 * thread, through a wrapped direct executor, so that every case can look at the thread before,
 * during and after the task: the private context must behave exactly as a real one (sets, resets,
 * enters inside it), and the thread must get its own context back whatever the task did.
 */
final class DeferredContextTest {
  private static final ContextVar<String> NAME = ContextVar.named("name");
  private static final ContextVar<String> OTHER = ContextVar.named("other");

  /** Runs each task at once, on the calling thread, in a copy of the caller's context. */
  private static final Executor INLINE = ContextExecutors.wrap((Executor) Runnable::run);

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size()).as("the test left no value set").isZero();
  }

  private static void inNewContext(Runnable body) {
    new Context().run(body);
  }

  @Test
  void task_withoutSets_seesTheCapturedValues_andLeavesTheCallerUntouched() {
    inNewContext(
        () -> {
          NAME.set("caller");
          Context callerBefore = Context.copyCurrent();
          AtomicReference<Map<ContextVar<?>, Object>> seen = new AtomicReference<>();
          INLINE.execute(() -> seen.set(Context.copyCurrent().asMap()));

          assertThat(seen.get()).isEqualTo(Map.of(NAME, "caller"));
          assertThat(Context.copyCurrent().asMap()).isEqualTo(callerBefore.asMap());
          assertThat(NAME.get()).isEqualTo("caller");
        });
  }

  @Test
  void task_setAndReset_workInsideTheTask_andDoNotLeak() {
    inNewContext(
        () -> {
          NAME.set("caller");
          AtomicReference<String> afterSet = new AtomicReference<>();
          AtomicReference<String> afterReset = new AtomicReference<>();
          INLINE.execute(
              () -> {
                Token<String> token = NAME.set("task");
                afterSet.set(NAME.get());
                NAME.reset(token);
                afterReset.set(NAME.get());
                OTHER.set("left in the task's context");
              });

          assertThat(afterSet.get()).isEqualTo("task");
          assertThat(afterReset.get()).isEqualTo("caller");
          assertThat(NAME.get()).isEqualTo("caller");
          assertThat(OTHER.isBound()).as("the task's set stays in its context").isFalse();
        });
  }

  @Test
  void reset_inTaskOfATokenMadeOutside_throwsIllegalArgument_andChangesNothing() {
    inNewContext(
        () -> {
          Token<String> outside = NAME.set("caller");
          AtomicReference<Throwable> failure = new AtomicReference<>();
          AtomicReference<String> seenAfter = new AtomicReference<>();
          INLINE.execute(
              () -> {
                try {
                  NAME.reset(outside);
                } catch (IllegalArgumentException e) {
                  failure.set(e);
                }
                seenAfter.set(NAME.get());
              });

          assertThat(failure.get()).isInstanceOf(IllegalArgumentException.class);
          assertThat(seenAfter.get()).isEqualTo("caller");
          assertThat(outside.isUsed()).isFalse();
          NAME.reset(outside);
          assertThat(NAME.isBound()).isFalse();
        });
  }

  @Test
  void reset_inTaskOfATokenOfTheThreadsBaseFrame_throwsIllegalArgument_evenAfterANestedRun() {
    // The base frame and a task's frame before its first set both have no Context of their own:
    // the token's thread state is the same, and only the task frame's mark tells them apart.
    Token<String> base = NAME.set("base");
    try {
      AtomicReference<Throwable> first = new AtomicReference<>();
      AtomicReference<Throwable> afterNestedRun = new AtomicReference<>();
      AtomicReference<String> seenAfter = new AtomicReference<>();
      INLINE.execute(
          () -> {
            first.set(catchThrowable(() -> NAME.reset(base)));
            new Context().run(() -> OTHER.set("in a nested context"));
            afterNestedRun.set(catchThrowable(() -> NAME.reset(base)));
            seenAfter.set(NAME.get());
          });

      assertThat(first.get()).isInstanceOf(IllegalArgumentException.class);
      assertThat(afterNestedRun.get()).isInstanceOf(IllegalArgumentException.class);
      assertThat(seenAfter.get()).isEqualTo("base");
      assertThat(base.isUsed()).isFalse();
    } finally {
      NAME.reset(base);
    }
    assertThat(NAME.isBound()).isFalse();
  }

  @Test
  void reset_outsideOfATokenMadeInTask_throwsIllegalArgument() {
    inNewContext(
        () -> {
          AtomicReference<Token<String>> fromTask = new AtomicReference<>();
          INLINE.execute(() -> fromTask.set(NAME.set("task")));

          assertThatIllegalArgumentException().isThrownBy(() -> NAME.reset(fromTask.get()));
          assertThat(NAME.isBound()).isFalse();
        });
  }

  @Test
  void contextRun_insideTask_returnsToTheTasksValues() {
    inNewContext(
        () -> {
          NAME.set("caller");
          Context other = new Context();
          AtomicReference<String> inOther = new AtomicReference<>();
          AtomicReference<String> backInTask = new AtomicReference<>();
          INLINE.execute(
              () -> {
                NAME.set("task");
                other.run(() -> inOther.set(NAME.getOrDefault("unbound")));
                backInTask.set(NAME.get());
              });

          assertThat(inOther.get()).isEqualTo("unbound");
          assertThat(backInTask.get()).isEqualTo("task");
          assertThat(NAME.get()).isEqualTo("caller");
        });
  }

  @Test
  void contextRun_insideTaskBeforeAnySet_returnsToTheCapturedValues() {
    inNewContext(
        () -> {
          NAME.set("caller");
          AtomicReference<String> backInTask = new AtomicReference<>();
          INLINE.execute(
              () -> {
                new Context().run(() -> NAME.set("elsewhere"));
                backInTask.set(NAME.get());
              });

          assertThat(backInTask.get()).isEqualTo("caller");
        });
  }

  @Test
  void nestedTasks_eachRunInTheirOwnCopy() {
    inNewContext(
        () -> {
          NAME.set("caller");
          AtomicReference<String> inner = new AtomicReference<>();
          AtomicReference<String> outerAfterInner = new AtomicReference<>();
          INLINE.execute(
              () -> {
                NAME.set("outer task");
                INLINE.execute(
                    () -> {
                      inner.set(NAME.get());
                      NAME.set("inner task");
                    });
                outerAfterInner.set(NAME.get());
              });

          assertThat(inner.get()).as("captured inside the outer task").isEqualTo("outer task");
          assertThat(outerAfterInner.get()).isEqualTo("outer task");
          assertThat(NAME.get()).isEqualTo("caller");
        });
  }

  @Test
  void scopeForgottenInTask_isClosedAndReported_andTheThreadGetsItsContextBack() {
    inNewContext(
        () -> {
          NAME.set("caller");
          Context forgottenContext = new Context();

          assertThatThrownBy(() -> INLINE.execute(() -> forgottenContext.enter()))
              .isInstanceOf(IllegalStateException.class)
              .hasMessageContaining("was not closed");

          assertThat(NAME.get()).isEqualTo("caller");
          // Closed by the task's runner: it can be entered again.
          forgottenContext.run(() -> NAME.set("entered again"));
          assertThat(forgottenContext.get(NAME)).isEqualTo("entered again");
        });
  }

  @Test
  void scopeForgottenInFailingTask_isReportedAsSuppressed_andTheFailureWins() throws Exception {
    Callable<String> failing =
        ContextExecutors.capture(
            () -> {
              new Context().enter();
              throw new IllegalStateException("the task's own failure");
            });
    inNewContext(
        () -> {
          NAME.set("caller");
          Throwable thrown = catchAll(failing);

          assertThat(thrown).hasMessage("the task's own failure");
          assertThat(thrown.getSuppressed()).singleElement().satisfies(
              suppressed -> assertThat(suppressed).hasMessageContaining("was not closed"));
          assertThat(NAME.get()).isEqualTo("caller");
        });
  }

  private static Throwable catchAll(Callable<?> callable) {
    try {
      callable.call();
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("expected a failure");
  }
}
