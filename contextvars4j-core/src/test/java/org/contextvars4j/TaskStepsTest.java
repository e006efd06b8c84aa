package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.internal.ContextAccess;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tests of {@link TaskSteps}: the steps of a task (a Kotlin coroutine) that runs in one {@link
 * Context} across threads, opened and left in the orders kotlinx.coroutines uses: the next step
 * opening on another thread before this one is left (late restore), a step of the same task
 * nested on the same thread (undispatched {@code withContext}), an outer step left before an inner
 * one whose leave comes later, on the same thread or another.
 *
 * <p>"Thread #n" is a single-thread executor: what a step leaves current on it stays current
 * between the calls the test makes on it, as on a dispatcher's thread between two continuations,
 * and the test lines the calls up by waiting (bounded) for each one. So "thread #1 leaves late"
 * is a call on thread #1 made after thread #2 has entered. After every test, every thread used
 * must be back in its own context, empty, and not in a step.
 *
 * <p>The randomised test at the end is seeded: the seed is printed when the class starts and
 * named in its assertion messages; replay a failure's random choices (not the scheduling) with
 *
 * {@snippet lang = shell :
 * mvn -pl contextvars4j-core test -Dtest=TaskStepsTest -Dcv4j.seed=1234567
 * }
 */
// "try": a scope or token held by try-with-resources and never named in the body is the idiom.
@SuppressWarnings("try")
@ExtendWith(RestoresContext.class)
final class TaskStepsTest {

  /** The seed of every random choice in this class: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static final ContextVar<String> A = ContextVar.named("a");
  private static final ContextVar<String> B = ContextVar.named("b");
  private static final ContextVar<String> C = ContextVar.named("c");
  private static final ContextVar<String> D = ContextVar.named("d");
  private static final ContextVar<String> E = ContextVar.named("e");

  /** The threads of the running test, checked and shut down after it. */
  private final List<ExecutorService> threads = new ArrayList<>();

  /**
   * The steps the test opened through {@link #enter}: left after it, on the test thread (the
   * others' leaves do nothing there), so that a test that fails inside a step does not leave the
   * test thread in it for the tests after it.
   */
  private final Queue<TaskSteps.Step> opened = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void printSeed() {
    System.out.printf("TaskStepsTest: seed %d (replay with -Dcv4j.seed=%d)%n", SEED, SEED);
  }

  @AfterEach
  void everyThreadIsBackInItsOwnEmptyContext() throws Exception {
    try {
      try {
        assertInOwnEmptyContext("the test thread after the test");
      } finally {
        cleanUpTheTestThread();
      }
      for (int i = 0; i < threads.size(); i++) {
        String name = "thread #" + (i + 1) + " after the test";
        run(threads.get(i), () -> assertInOwnEmptyContext(name));
      }
    } finally {
      for (ExecutorService thread : threads) {
        thread.shutdownNow();
        assertThat(thread.awaitTermination(ThreadKinds.TIMEOUT_SECONDS, TimeUnit.SECONDS))
            .as("a test thread ends")
            .isTrue();
      }
    }
  }

  /**
   * After a test that failed (and was reported) with the test thread in a step or with a value
   * left in its own context: leaves the steps the test opened (leaves of steps already left, or of
   * other threads, do nothing) and unbinds the test's variables there, so that the tests after it
   * do not fail for it. A pool thread needs none of this: it ends with its test.
   */
  private void cleanUpTheTestThread() {
    List<TaskSteps.Step> steps = new ArrayList<>(opened);
    for (int i = steps.size() - 1; i >= 0; i--) {
      TaskSteps.leave(steps.get(i));
    }
    ThreadState state = ThreadState.current();
    if (state.context == null) {
      for (ContextVar<String> var : List.of(A, B, C, D, E)) {
        if (var.isBound()) {
          state.unbind(var);
        }
      }
    }
  }

  /* ---- one step ---- */

  @Test
  void enter_seesOnlyTheTasksValues_andLeaveGivesTheThreadItsOwnValuesBack() {
    // Why: a step runs in the task's Context, not on top of the thread's own values (they must not
    // reach the coroutine), and leaving it must give the thread back exactly its own values,
    // including sets still in its overlay (the newest one in fields), whose tokens must still
    // work afterwards.
    Context task = contextWith(A, "task-a");
    try (Token<String> ownB = B.set("own-b")) {
      Token<String> ownC = C.set("own-c");

      TaskSteps.Step step = enter(task);
      assertThat(ThreadState.current().context).as("the task's Context is current").isSameAs(task);
      assertThat(ThreadState.current().inStep()).isTrue();
      assertThat(A.get()).isEqualTo("task-a");
      assertThat(B.isBound()).as("the thread's own value is not seen in the step").isFalse();
      assertThat(C.isBound()).as("nor its newest one").isFalse();
      A.set("step-a");
      D.set("step-d");
      TaskSteps.leave(step);

      assertThat(ThreadState.current().context).as("back in the thread's own context").isNull();
      assertThat(ThreadState.current().inStep()).isFalse();
      assertThat(Context.copyCurrent().asMap())
          .as("exactly the thread's own values, none of the step's")
          .isEqualTo(mapOf(B, "own-b", C, "own-c"));
      C.reset(ownC);
      assertThat(C.isBound()).as("the thread's own newest token still resets its set").isFalse();
      assertThat(B.get()).isEqualTo("own-b");
    }
    assertThat(task.asMap()).isEqualTo(mapOf(A, "step-a", D, "step-d"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void set_inAStep_isInTheTaskContextAtOnce_whileTheStepIsStillOpen(ThreadFactory factory)
      throws Exception {
    // Why: the task's next step may open on another thread before this one is left (kotlinx
    // restores late); it can only see what is already in the Context. So every set, and every
    // unbind, of a step must be in the Context as soon as it is made, seen from another thread
    // while the step is still open (as a child coroutine's copy would see it).
    Context task = contextWith(B, "b0");
    ExecutorService thread1 = newThread(factory);
    TaskSteps.Step step = call(thread1, () -> enter(task));
    Token<String> setA = call(thread1, () -> A.set("a1"));
    Token<String> setB = call(thread1, () -> B.set("b1"));

    assertThat(task.get(A)).isEqualTo("a1");
    assertThat(task.get(B)).isEqualTo("b1");
    assertThat(task.copy().asMap())
        .as("a copy of the task's Context, as copyForChild makes")
        .isEqualTo(mapOf(A, "a1", B, "b1"));

    run(
        thread1,
        () -> {
          A.reset(setA); // A had no value before: an unbind
          B.reset(setB);
          C.set(null);
        });
    assertThat(task.containsKey(A)).as("the unbind is published too").isFalse();
    assertThat(task.asMap()).isEqualTo(mapOf(B, "b0", C, null));

    run(thread1, () -> TaskSteps.leave(step));
    assertThat(task.asMap())
        .as("leaving wrote nothing back: the same values")
        .isEqualTo(mapOf(B, "b0", C, null));
  }

  /* ---- the kotlinx interleavings across threads ---- */

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void lateRestore_nextStepOpensOnAnotherThreadBeforeThisOneIsLeft_noSetIsLost(
      ThreadFactory factory) throws Exception {
    // Why: this is what kotlinx does on every dispatch: the coroutine is resumed on thread #2 as
    // soon as it is dispatched, and thread #1 calls restoreThreadContext only afterwards. Step 2
    // must see step 1's sets (published, not held by thread #1), and thread #1's late leave must
    // not write its view back over step 2's sets, nor leave anything behind on thread #1.
    Context task = contextWith(A, "a0");
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    run(
        thread1,
        () -> {
          assertThat(A.get()).isEqualTo("a0");
          A.set("a1");
          B.set("b1");
        });
    TaskSteps.Step step2 = call(thread2, () -> enter(task)); // before #1 leaves
    run(
        thread2,
        () -> {
          assertThat(A.get()).as("step 2 sees step 1's sets").isEqualTo("a1");
          assertThat(B.get()).isEqualTo("b1");
          A.set("a2");
          C.set("c2");
        });
    run(
        thread1,
        () -> {
          TaskSteps.leave(step1); // late
          assertInOwnEmptyContext("thread #1 after its late leave");
        });
    run(
        thread2,
        () -> {
          assertThat(Context.copyCurrent().asMap())
              .as("thread #1's late leave undid nothing of step 2's values")
              .isEqualTo(mapOf(A, "a2", B, "b1", C, "c2"));
          D.set("d2");
        });
    run(
        thread2,
        () -> {
          TaskSteps.leave(step2);
          assertInOwnEmptyContext("thread #2 after its leave");
        });

    assertThat(task.asMap())
        .as("every set of both steps is in the task's Context")
        .isEqualTo(mapOf(A, "a2", B, "b1", C, "c2", D, "d2"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void lateRestore_lateLeaveAfterTheNextStepOverwroteAndUnbound_undoesNothing(
      ThreadFactory factory) throws Exception {
    // Why: what a write-back on leaving would break. Step 2 overwrites one of step 1's sets and
    // unbinds another (resetting step 1's token); then thread #1 leaves. A leave that wrote step
    // 1's mapping into the Context would bring both old values back, one that restored the
    // Context as it was at step 1's entry would drop step 2's set too.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    Token<String> setA = call(thread1, () -> A.set("a1"));
    run(thread1, () -> B.set("b1"));
    TaskSteps.Step step2 = call(thread2, () -> enter(task));
    run(
        thread2,
        () -> {
          A.reset(setA);
          B.set("b2");
        });
    run(thread1, () -> TaskSteps.leave(step1));
    assertThat(task.asMap()).as("read while step 2 is open").isEqualTo(mapOf(B, "b2"));
    run(
        thread2,
        () -> {
          assertThat(A.isBound()).as("the unbind survived the late leave").isFalse();
          assertThat(B.get()).as("the overwrite survived the late leave").isEqualTo("b2");
          TaskSteps.leave(step2);
        });
    assertThat(task.asMap()).isEqualTo(mapOf(B, "b2"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void reverseTiming_stepLeftBeforeTheNextOneOpensOnAnotherThread_seesEverySet(
      ThreadFactory factory) throws Exception {
    // Why: the other outcome of the same race: thread #1 leaves before the next step opens on
    // thread #2 (the dispatch was slow), and a third step comes back to thread #1, which must then
    // start from the task's values and not from anything its earlier step left on it.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    run(
        thread1,
        () -> {
          TaskSteps.Step step = enter(task);
          A.set("a1");
          TaskSteps.leave(step);
          assertInOwnEmptyContext("thread #1 after step 1");
        });
    assertThat(task.asMap()).as("between the steps").isEqualTo(mapOf(A, "a1"));
    run(
        thread2,
        () -> {
          TaskSteps.Step step = enter(task);
          assertThat(A.get()).isEqualTo("a1");
          B.set("b2");
          TaskSteps.leave(step);
          assertInOwnEmptyContext("thread #2 after step 2");
        });
    run(
        thread1,
        () -> {
          TaskSteps.Step step = enter(task);
          assertThat(Context.copyCurrent().asMap())
              .as("step 3, back on thread #1, sees both steps' sets")
              .isEqualTo(mapOf(A, "a1", B, "b2"));
          C.set("c3");
          TaskSteps.leave(step);
        });
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a1", B, "b2", C, "c3"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void veryLateRestore_leaveAfterTheNextStepWasLeftAndAThirdOpened_undoesNothing(
      ThreadFactory factory) throws Exception {
    // Why: nothing bounds how late thread #1's restore comes: step 2 may have run and been left,
    // and step 3 opened, on thread #2. The late leave must still change nothing but thread #1.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    run(thread1, () -> A.set("a1"));
    run(
        thread2,
        () -> {
          TaskSteps.Step step2 = enter(task);
          assertThat(A.get()).isEqualTo("a1");
          A.set("a2");
          TaskSteps.leave(step2);
        });
    TaskSteps.Step step3 = call(thread2, () -> enter(task));
    run(thread2, () -> B.set("b3"));
    run(
        thread1,
        () -> {
          TaskSteps.leave(step1);
          assertInOwnEmptyContext("thread #1 after its very late leave");
        });
    run(
        thread2,
        () -> {
          assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(A, "a2", B, "b3"));
          TaskSteps.leave(step3);
        });
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a2", B, "b3"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void continuedStep_goesOnAfterAStepOfTheTaskOnAnotherThread_seesItsSets(ThreadFactory factory)
      throws Exception {
    // Why: kotlinx's withContext(dispatcher) returns without suspending when its block, run on
    // thread #2, finished before the caller suspended: the caller's step goes on, on thread #1,
    // after a step of the same task published on thread #2. It must read the Context, not a view
    // taken when it was entered, and its later sets must not drop thread #2's.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    run(thread1, () -> A.set("a1"));
    run(
        thread2,
        () -> {
          TaskSteps.Step block = enter(task);
          assertThat(A.get()).isEqualTo("a1");
          A.set("a2");
          B.set("b2");
          TaskSteps.leave(block);
        });
    run(
        thread1,
        () -> {
          assertThat(A.get()).as("the caller's step sees the block's overwrite").isEqualTo("a2");
          assertThat(B.get()).as("and its new set").isEqualTo("b2");
          C.set("c1");
          TaskSteps.leave(step1);
        });
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a2", B, "b2", C, "c1"));
  }

  /* ---- tokens ---- */

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void reset_ofATokenOfAStepOnThread1_inTheNextStepOnThread2_restoresTheOldValue(
      ThreadFactory factory) throws Exception {
    // Why: both steps' current Context is the task's, so a token of step 1 belongs to step 2's
    // context, as a Python token made before an await belongs to the task after it. Its reset must
    // restore the value before its set (or unbind), whatever was set since, also while thread #1
    // has not left step 1 yet; and a token is used once, whichever thread used it.
    Context task = contextWith(A, "a0");
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    Token<String> setA = call(thread1, () -> A.set("a1"));
    run(thread1, () -> A.set("a1-again"));
    Token<String> setB = call(thread1, () -> B.set("b1"));
    TaskSteps.Step step2 = call(thread2, () -> enter(task)); // #1 still in step 1
    run(
        thread2,
        () -> {
          A.reset(setA);
          assertThat(A.get()).as("the value before the token's set").isEqualTo("a0");
          B.reset(setB);
          assertThat(B.isBound()).as("B had no value before its set").isFalse();
          assertThat(setA.isUsed()).isTrue();
          assertThatIllegalStateException()
              .isThrownBy(() -> A.reset(setA))
              .withMessageContaining("already been used");
        });
    assertThat(task.asMap()).as("the resets are published").isEqualTo(mapOf(A, "a0"));
    run(thread1, () -> TaskSteps.leave(step1));
    run(
        thread2,
        () -> {
          assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(A, "a0"));
          TaskSteps.leave(step2);
        });
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a0"));
  }

  @Test
  void reset_ofAStepsToken_outsideItsTasksContext_throwsAndKeepsTheTokenUsable() {
    // Why: a step's token belongs to the task's Context, not to the thread: in the thread's own
    // context after the step, in another task's step, or in a Context run inside a step of its
    // task, it must be refused (Python: "created in a different Context") without being used up,
    // and it must still work in the task's next step.
    Context task = new Context();
    Context otherTask = new Context();
    TaskSteps.Step step1 = enter(task);
    Token<String> token = A.set("a1");
    TaskSteps.leave(step1);

    assertThatIllegalArgumentException()
        .isThrownBy(() -> A.reset(token))
        .withMessageContaining("another Context");
    assertThat(token.isUsed()).isFalse();
    TaskSteps.Step other = enter(otherTask);
    assertThatIllegalArgumentException().isThrownBy(() -> A.reset(token));
    TaskSteps.leave(other);

    TaskSteps.Step step2 = enter(task);
    new Context().run(() -> assertThatIllegalArgumentException().isThrownBy(() -> A.reset(token)));
    assertThat(token.isUsed()).isFalse();
    assertThat(A.get()).isEqualTo("a1");
    A.reset(token);
    assertThat(A.isBound()).isFalse();
    TaskSteps.leave(step2);

    assertThat(task.asMap()).isEmpty();
    assertThat(otherTask.asMap()).isEmpty();
  }

  /* ---- copies and reads of the task's Context ---- */

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void copyCurrent_inAStep_holdsTheStepsValues_asAnIndependentCopy(ThreadFactory factory)
      throws Exception {
    // Why: copyCurrent() in a coroutine is how a callback or a child task captures its values: it
    // must hold what this step and earlier steps on other threads set, and be a copy: not the
    // task's Context, unchanged by later sets on either side, free to run while the step is open.
    Context task = contextWith(A, "a0");
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);
    run(
        thread1,
        () -> {
          TaskSteps.Step step = enter(task);
          B.set("b1");
          TaskSteps.leave(step);
        });
    run(
        thread2,
        () -> {
          TaskSteps.Step step = enter(task);
          Context first = Context.copyCurrent();
          assertThat(first.asMap()).isEqualTo(mapOf(A, "a0", B, "b1"));
          C.set("c2");
          Context second = Context.copyCurrent();
          assertThat(second.asMap()).isEqualTo(mapOf(A, "a0", B, "b1", C, "c2"));
          assertThat(first.asMap()).as("a later set does not reach a copy").doesNotContainKey(C);
          A.set("a2");
          assertThat(second.get(A)).isEqualTo("a0");
          assertThat(second).isNotSameAs(task);
          second.run(
              () -> {
                assertThat(A.get()).isEqualTo("a0");
                D.set("in-copy");
              });
          assertThat(D.isBound()).as("a set in the copy does not come back").isFalse();
          assertThat(second.get(D)).isEqualTo("in-copy");
          TaskSteps.leave(step);
        });
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a2", B, "b1", C, "c2"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void taskContext_readFromOutside_seesEverySetOfItsSteps(ThreadFactory factory) throws Exception {
    // Why: with asContextElement(ctx) the task's Context is where the coroutine's values end up
    // ("its sets are seen in this context afterwards"): every set of every step, on every thread,
    // with late leaves, many sets (more than a frame's overlay holds before folding), a null value
    // and an unbind, must be in it and read the same from any thread.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);
    ExecutorService thread3 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    Token<String> setB =
        call(
            thread1,
            () -> {
              for (int i = 0; i < 3 * ThreadState.MAX_OVERLAY; i++) {
                E.set("e" + i);
              }
              A.set(null);
              return B.set("b1");
            });
    TaskSteps.Step step2 = call(thread2, () -> enter(task));
    run(thread2, () -> D.set("d2"));
    run(thread1, () -> TaskSteps.leave(step1));
    run(thread2, () -> TaskSteps.leave(step2));
    run(
        thread3,
        () -> {
          TaskSteps.Step step3 = enter(task);
          B.reset(setB);
          C.set("c3");
          D.set("d3");
          TaskSteps.leave(step3);
        });

    Map<ContextVar<?>, Object> expected = mapOf(A, null, C, "c3", D, "d3", E, "e23");
    assertThat(task.asMap()).isEqualTo(expected);
    assertThat(task.size()).isEqualTo(4);
    assertThat(task.containsKey(A)).as("bound to null").isTrue();
    assertThat(task.get(A)).isNull();
    assertThat(task.containsKey(B)).as("unbound by the reset in step 3").isFalse();
    assertThatThrownBy(() -> task.get(B)).isInstanceOf(NoSuchElementException.class);
    assertThat(task.getOrDefault(B, "none")).isEqualTo("none");
    assertThat(task.get(E)).isEqualTo("e23");
    for (ExecutorService thread : List.of(thread1, thread2, thread3)) {
      assertThat(call(thread, task::asMap)).as("read on a thread that ran a step").isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void taskContext_afterItsSteps_canBeRunAndEnteredOnAnyThread(ThreadFactory factory)
      throws Exception {
    // Why: steps do not claim the Context (two of them overlap), so none may leave it claimed:
    // after the steps, even with a late leave, run and enter on any thread must not say "already
    // entered", and must see and keep the steps' sets.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);
    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    run(thread1, () -> A.set("a1"));
    run(
        thread2,
        () -> {
          TaskSteps.Step step2 = enter(task);
          B.set("b2");
          TaskSteps.leave(step2);
        });
    run(thread1, () -> TaskSteps.leave(step1));

    task.run(() -> assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(A, "a1", B, "b2")));
    run(
        thread1,
        () -> {
          try (Context.Scope scope = task.enter()) {
            C.set("c");
          }
        });
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a1", B, "b2", C, "c"));
  }

  /* ---- scopes and nested frames inside a step ---- */

  @Test
  void leave_closesScopesForgottenOpenInTheStep() {
    // Why: a step that enters a Context with enter() and suspends without closing it would leave
    // the thread in that Context for whatever runs on it next. Leaving the step closes such scopes
    // (as a run closes those its action forgot): their close() then says they are closed already,
    // their Contexts keep their sets and are free to be entered again, and the task's Context
    // gets none of their sets.
    Context task = new Context();
    Context first = new Context();
    Context second = new Context();
    TaskSteps.Step step = enter(task);
    A.set("in-step");
    Context.Scope outerScope = first.enter();
    B.set("in-first");
    Context.Scope innerScope = second.enter();
    C.set("in-second");

    TaskSteps.leave(step);

    assertInOwnEmptyContext("after leaving the step");
    assertThatIllegalStateException()
        .isThrownBy(innerScope::close)
        .withMessageContaining("already closed");
    assertThatIllegalStateException()
        .isThrownBy(outerScope::close)
        .withMessageContaining("already closed");
    assertThat(first.asMap()).isEqualTo(mapOf(B, "in-first"));
    assertThat(second.asMap()).isEqualTo(mapOf(C, "in-second"));
    assertThat(task.asMap()).isEqualTo(mapOf(A, "in-step"));
    first.run(() -> assertThat(B.get()).isEqualTo("in-first"));
    try (Context.Scope again = second.enter()) {
      assertThat(C.get()).isEqualTo("in-second");
    }
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void nestedFrames_inAStep_work_andTheStepsLaterSetsArePublished(ThreadFactory factory)
      throws Exception {
    // Why: blocking code in a coroutine step runs Contexts (ctx2.run), enters them with scopes and
    // runs executor tasks inline: normal frames on top of the step frame. Each must see its own
    // values and leave the step's alone, and when it ends the step must be a step again: its next
    // sets published at once (not kept in the thread's overlay, where step 2 on thread #2 would
    // miss them), its earlier tokens still working.
    Context task = contextWith(A, "a0");
    Context other = contextWith(B, "other-b");
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);

    TaskSteps.Step step1 = call(thread1, () -> enter(task));
    run(
        thread1,
        () -> {
          Token<String> beforeFrames = A.set("a1");
          other.run(
              () -> {
                assertThat(A.isBound()).isFalse();
                assertThat(B.get()).isEqualTo("other-b");
                for (int i = 0; i < 3 * ThreadState.MAX_OVERLAY; i++) {
                  C.set("other-c" + i); // folds other's region into its mapping, more than once
                }
                A.set("other-a");
              });
          assertThat(A.get()).as("the step's value after the run").isEqualTo("a1");
          assertThat(B.isBound()).isFalse();
          assertThat(C.isBound()).isFalse();
          D.set("after-run");
          try (Context.Scope scope = other.enter()) {
            assertThat(C.get()).isEqualTo("other-c23");
            E.set("in-scope");
          }
          ContextExecutors.capture(
                  () -> {
                    assertThat(A.get()).isEqualTo("a1");
                    assertThat(D.get()).isEqualTo("after-run");
                    A.set("in-executor-task");
                    E.set("in-executor-task");
                  })
              .run();
          assertThat(A.get()).isEqualTo("a1");
          assertThat(E.isBound()).isFalse();
          E.set("after-frames");
          A.reset(beforeFrames);
          assertThat(A.get()).as("a token of the step made before the frames").isEqualTo("a0");
        });
    assertThat(task.asMap())
        .as("thread #1 is still in its step: its sets after the frames are in the Context already")
        .isEqualTo(mapOf(A, "a0", D, "after-run", E, "after-frames"));
    run(
        thread2,
        () -> {
          TaskSteps.Step step2 = enter(task);
          assertThat(Context.copyCurrent().asMap())
              .isEqualTo(mapOf(A, "a0", D, "after-run", E, "after-frames"));
          TaskSteps.leave(step2);
        });
    run(thread1, () -> TaskSteps.leave(step1));

    assertThat(task.asMap()).isEqualTo(mapOf(A, "a0", D, "after-run", E, "after-frames"));
    assertThat(other.asMap())
        .isEqualTo(mapOf(A, "other-a", B, "other-b", C, "other-c23", E, "in-scope"));
  }

  @Test
  void step_insideARun_comesBackToTheRunsFrameWithItsValuesAndTokensIntact() {
    // Why: a coroutine resumed undispatched (Dispatchers.Unconfined, runBlocking's loop) runs its
    // step inside whatever frame the thread is in. The step must not see that frame's values and
    // must publish its own; leaving it must give the frame back exactly: its sets still in the
    // thread's overlay (the newest in fields), the in-place reset of its newest set, a read of
    // the suspended Context meanwhile, and its write-back when the run ends.
    Context task = new Context();
    Context outer = contextWith(A, "outer-a0");
    outer.run(
        () -> {
          B.set("outer-b");
          Token<String> newest = A.set("outer-a1");
          TaskSteps.Step step = enter(task);
          assertThat(A.isBound()).isFalse();
          assertThat(B.isBound()).isFalse();
          assertThat(outer.get(A))
              .as("the suspended run's Context, read on its thread, has its sets")
              .isEqualTo("outer-a1");
          A.set("task-a");
          TaskSteps.leave(step);

          assertThat(ThreadState.current().context).isSameAs(outer);
          assertThat(ThreadState.current().inStep()).isFalse();
          assertThat(A.get()).isEqualTo("outer-a1");
          assertThat(B.get()).isEqualTo("outer-b");
          A.reset(newest);
          assertThat(A.get()).isEqualTo("outer-a0");
          C.set("outer-c");
        });
    assertThat(outer.asMap()).isEqualTo(mapOf(A, "outer-a0", B, "outer-b", C, "outer-c"));
    assertThat(task.asMap()).isEqualTo(mapOf(A, "task-a"));
  }

  @Test
  void step_insideAnExecutorTask_comesBackToTheTasksFrame_beforeAndAfterItsFirstSet() {
    // Why: a task of the concurrent wrappers starts without a Context object (a deferred frame
    // holding the captured values) and makes one at its first set. A step opened and left inside
    // it, before and after that first set, must give it back its captured values and its sets.
    Context task = new Context();
    Runnable captured;
    try (Token<String> token = A.set("captured-a")) {
      captured =
          ContextExecutors.capture(
              () -> {
                TaskSteps.Step first = enter(task);
                assertThat(A.isBound()).isFalse();
                B.set("task-b");
                TaskSteps.leave(first);
                assertThat(A.get()).isEqualTo("captured-a");
                assertThat(B.isBound()).isFalse();
                C.set("executor-c");
                TaskSteps.Step second = enter(task);
                assertThat(B.get()).isEqualTo("task-b");
                assertThat(C.isBound()).isFalse();
                D.set("task-d");
                TaskSteps.leave(second);
                assertThat(Context.copyCurrent().asMap())
                    .isEqualTo(mapOf(A, "captured-a", C, "executor-c"));
              });
    }
    captured.run();
    assertThat(task.asMap()).isEqualTo(mapOf(B, "task-b", D, "task-d"));
  }

  /* ---- steps nested on one thread ---- */

  @Test
  void nestedStepOfTheSameTask_seesTheOuterSets_andTheOuterSeesItsSets() {
    // Why: an undispatched withContext (or a coroutine resumed in place) opens a step of the same
    // task inside the running one, on the same thread. It must see the outer step's sets, and when
    // it ends the outer step must see its sets, as a caller sees what `await nested()` set; tokens
    // work across both, and the outer step is still a step (its sets published) afterwards.
    Context task = contextWith(A, "a0");
    TaskSteps.Step outer = enter(task);
    Token<String> outerA = A.set("outer-a");

    TaskSteps.Step inner = enter(task);
    assertThat(A.get()).isEqualTo("outer-a");
    Token<String> innerB = B.set("inner-b");
    A.reset(outerA);
    TaskSteps.Step innermost = enter(task);
    assertThat(B.get()).isEqualTo("inner-b");
    C.set("innermost-c");
    TaskSteps.leave(innermost);
    assertThat(ThreadState.current().inStep()).as("back in the inner step").isTrue();
    assertThat(C.get()).isEqualTo("innermost-c");
    TaskSteps.leave(inner);

    assertThat(ThreadState.current().context).isSameAs(task);
    assertThat(ThreadState.current().inStep()).as("back in the outer step").isTrue();
    assertThat(Context.copyCurrent().asMap())
        .isEqualTo(mapOf(A, "a0", B, "inner-b", C, "innermost-c"));
    B.reset(innerB);
    D.set("outer-d");
    assertThat(task.get(D)).as("the outer step still publishes at once").isEqualTo("outer-d");
    TaskSteps.leave(outer);

    assertInOwnEmptyContext("after the outer step");
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a0", C, "innermost-c", D, "outer-d"));
  }

  @Test
  void nestedStepOfAnotherTask_keepsTheTwoTasksApart() {
    // Why: a child coroutine started undispatched runs its first step inside its parent's step,
    // in a copy of the parent's Context: each must see only its own later sets, and when the
    // child's step ends the parent's step goes on in the parent's Context.
    Context parent = contextWith(A, "p0");
    TaskSteps.Step parentStep = enter(parent);
    A.set("parent-a");
    Context child = parent.copy();
    TaskSteps.Step childStep = enter(child);
    assertThat(A.get()).isEqualTo("parent-a");
    A.set("child-a");
    B.set("child-b");
    TaskSteps.leave(childStep);
    assertThat(ThreadState.current().context).isSameAs(parent);
    assertThat(A.get()).isEqualTo("parent-a");
    assertThat(B.isBound()).isFalse();
    C.set("parent-c");
    TaskSteps.leave(parentStep);

    assertThat(parent.asMap()).isEqualTo(mapOf(A, "parent-a", C, "parent-c"));
    assertThat(child.asMap()).isEqualTo(mapOf(A, "child-a", B, "child-b"));
  }

  @Test
  void step_ofTheSameTask_insideARunInsideAStep_isSeenByTheOuterStep() {
    // Why: blocking code in a step that runs another Context and, inside it, resumes the same
    // coroutine in place: the inner step's sets go to the task and the outer step sees them once
    // the run ends, while the run's Context gets none of them.
    Context task = new Context();
    Context other = new Context();
    TaskSteps.Step outer = enter(task);
    A.set("outer-a");
    other.run(
        () -> {
          B.set("other-b");
          TaskSteps.Step inner = enter(task);
          assertThat(A.get()).isEqualTo("outer-a");
          C.set("inner-c");
          TaskSteps.leave(inner);
          assertThat(B.get()).isEqualTo("other-b");
          assertThat(C.isBound()).isFalse();
        });
    assertThat(C.get()).isEqualTo("inner-c");
    TaskSteps.leave(outer);
    assertThat(task.asMap()).isEqualTo(mapOf(A, "outer-a", C, "inner-c"));
    assertThat(other.asMap()).isEqualTo(mapOf(B, "other-b"));
  }

  @ParameterizedTest(name = "inner step of the same task: {0}")
  @ValueSource(booleans = {true, false})
  void leave_ofTheOuterStepFirst_leavesTheInnerOneToo_andTheInnersLaterLeaveIsANoOp(
      boolean sameTask) {
    // Why: kotlinx 1.11 (flowOn's undispatched withContext) leaves the outer step while an inner
    // one is still open on the thread, and the inner one's leave comes later. Leaving the outer
    // step must give the thread its own context back (not leave it in the inner step), and the
    // inner's late leave (and a second leave of the outer) must do nothing: not throw, not pop the
    // thread's own frame, not close a step opened since.
    Context outerTask = new Context();
    Context innerTask = sameTask ? outerTask : new Context();
    Context later = new Context();
    try (Token<String> own = E.set("own")) {
      TaskSteps.Step outer = enter(outerTask);
      A.set("outer-a");
      TaskSteps.Step inner = enter(innerTask);
      B.set("inner-b");

      TaskSteps.leave(outer);
      assertThat(ThreadState.current().context).isNull();
      assertThat(ThreadState.current().inStep()).isFalse();
      assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(E, "own"));

      TaskSteps.leave(inner);
      assertThat(Context.copyCurrent().asMap())
          .as("the inner's late leave did not touch the thread's own context")
          .isEqualTo(mapOf(E, "own"));

      TaskSteps.Step next = enter(later);
      TaskSteps.leave(inner);
      TaskSteps.leave(outer);
      assertThat(ThreadState.current().context)
          .as("the stale leaves did not close the step open now")
          .isSameAs(later);
      assertThat(ThreadState.current().inStep()).isTrue();
      C.set("later-c");
      assertThat(later.get(C)).as("still a step: published at once").isEqualTo("later-c");
      TaskSteps.leave(next);
      assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(E, "own"));
    }
    if (sameTask) {
      assertThat(outerTask.asMap()).isEqualTo(mapOf(A, "outer-a", B, "inner-b"));
    } else {
      assertThat(outerTask.asMap()).isEqualTo(mapOf(A, "outer-a"));
      assertThat(innerTask.asMap()).isEqualTo(mapOf(B, "inner-b"));
    }
    assertThat(later.asMap()).isEqualTo(mapOf(C, "later-c"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void leave_ofAnInnerStepOnAnotherThread_afterItsOuterStepWasLeft_isANoOp(ThreadFactory factory)
      throws Exception {
    // Why: the inner step's late leave may come on another thread, one that is in a step of the
    // same task at that moment. It must not touch that thread's step: the step stays current,
    // still a step (sets published), and is left normally afterwards.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);
    TaskSteps.Step outer = call(thread1, () -> enter(task));
    run(thread1, () -> A.set("outer-a"));
    TaskSteps.Step inner = call(thread1, () -> enter(task));
    run(thread1, () -> B.set("inner-b"));
    run(
        thread1,
        () -> {
          TaskSteps.leave(outer);
          assertInOwnEmptyContext("thread #1 after leaving the outer step");
        });

    TaskSteps.Step step2 = call(thread2, () -> enter(task));
    run(
        thread2,
        () -> {
          assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(A, "outer-a", B, "inner-b"));
          TaskSteps.leave(inner);
          TaskSteps.leave(outer);
          assertThat(ThreadState.current().context).isSameAs(task);
          assertThat(ThreadState.current().inStep()).isTrue();
          C.set("c2");
        });
    assertThat(task.get(C)).as("thread #2 is still in its step").isEqualTo("c2");
    run(
        thread1,
        () -> {
          TaskSteps.leave(inner);
          assertInOwnEmptyContext("thread #1 after the inner's late leave on it");
        });
    run(thread2, () -> TaskSteps.leave(step2));
    assertThat(task.asMap()).isEqualTo(mapOf(A, "outer-a", B, "inner-b", C, "c2"));
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void leave_ofAnOpenStepOnAnotherThread_isANoOp_andItsOwnThreadStillLeavesIt(
      ThreadFactory factory) throws Exception {
    // Why: a step belongs to the thread that opened it; a leave on another thread ignores it
    // (ContextAccess.leaveStep: "does nothing if it is not open on the calling thread"). Neither
    // thread may be disturbed: not the caller's own values, not the owner's open step.
    Context task = new Context();
    ExecutorService thread1 = newThread(factory);
    ExecutorService thread2 = newThread(factory);
    TaskSteps.Step step = call(thread1, () -> enter(task));
    run(thread1, () -> A.set("a1"));
    Token<String> own = call(thread2, () -> B.set("thread2-own"));

    run(
        thread2,
        () -> {
          TaskSteps.leave(step);
          assertThat(ThreadState.current().context).isNull();
          assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(B, "thread2-own"));
        });
    // And while thread #2 is in a step of its own (of the same task, as after a late restore):
    // the foreign leave must not leave thread #2's step instead.
    TaskSteps.Step step2 = call(thread2, () -> enter(task));
    run(
        thread2,
        () -> {
          TaskSteps.leave(step);
          assertThat(ThreadState.current().context)
              .as("thread #2 is still in its own step")
              .isSameAs(task);
          assertThat(ThreadState.current().inStep()).isTrue();
          C.set("c2");
          TaskSteps.leave(step2);
          assertThat(Context.copyCurrent().asMap()).isEqualTo(mapOf(B, "thread2-own"));
        });
    run(
        thread1,
        () -> {
          assertThat(ThreadState.current().context).as("still in the step").isSameAs(task);
          assertThat(ThreadState.current().inStep()).isTrue();
          A.set("a2");
        });
    assertThat(task.get(A)).isEqualTo("a2");
    run(
        thread1,
        () -> {
          TaskSteps.leave(step);
          assertInOwnEmptyContext("thread #1 after its own leave");
        });
    run(thread2, () -> B.reset(own));
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a2", C, "c2"));
  }

  @Test
  void leave_ofTheOuterStep_closesAScopeForgottenInAnInnerStep() {
    // Why: leaving the outer step leaves everything opened above it on the thread: the inner step
    // and a scope forgotten in it. None of them may stay current, the scope must be closed (its
    // Context released, with its set), and the inner's leave afterwards does nothing.
    Context task = new Context();
    Context other = new Context();
    TaskSteps.Step outer = enter(task);
    TaskSteps.Step inner = enter(task);
    A.set("inner-a");
    Context.Scope scope = other.enter();
    B.set("in-other");

    TaskSteps.leave(outer);

    assertInOwnEmptyContext("after leaving the outer step");
    assertThatIllegalStateException().isThrownBy(scope::close).withMessageContaining("already closed");
    TaskSteps.leave(inner);
    assertInOwnEmptyContext("after the inner's late leave");
    assertThat(other.asMap()).isEqualTo(mapOf(B, "in-other"));
    other.run(() -> assertThat(B.get()).isEqualTo("in-other"));
    assertThat(task.asMap()).isEqualTo(mapOf(A, "inner-a"));
  }

  @Test
  void leave_twice_isANoOp_alsoWhenAnotherStepIsOpenNow() {
    // Why: kotlinx must never get an exception from a restore, and a repeated restore must not
    // pop a frame that belongs to someone else: here another task's step opened since, on top of
    // a step of the first task.
    Context task = new Context();
    Context other = new Context();
    TaskSteps.Step step = enter(task);
    TaskSteps.leave(step);
    TaskSteps.leave(step);
    assertInOwnEmptyContext("after two leaves");

    TaskSteps.Step base = enter(task);
    TaskSteps.Step top = enter(other);
    TaskSteps.leave(step);
    assertThat(ThreadState.current().context).isSameAs(other);
    TaskSteps.leave(top);
    TaskSteps.leave(top);
    assertThat(ThreadState.current().context)
        .as("the second leave of the top step did not leave the one under it")
        .isSameAs(task);
    A.set("a");
    TaskSteps.leave(base);
    assertInOwnEmptyContext("at the end");
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a"));
    assertThat(other.asMap()).isEmpty();
  }

  @Test
  void contextAccess_enterStepAndLeaveStep_areTaskSteps() {
    // Why: the Kotlin module reaches steps only through ContextAccess; the delegation must open a
    // real step (sets published at once) and leave it, and a second leaveStep must do nothing.
    ContextAccess access = ContextAccess.get();
    Context task = new Context();
    Object step = access.enterStep(task);
    assertThat(step).isInstanceOf(TaskSteps.Step.class);
    assertThat(ThreadState.current().inStep()).isTrue();
    A.set("a");
    assertThat(task.get(A)).isEqualTo("a");
    access.leaveStep(step);
    access.leaveStep(step);
    assertInOwnEmptyContext("after leaveStep");
    assertThat(task.asMap()).isEqualTo(mapOf(A, "a"));
  }

  /* ---- randomised: tasks stepping across a small pool, with late leaves ---- */

  /** The threads of the pool. */
  private static final int POOL = 4;

  private static final int ITERATIONS = 400;
  private static final int ROUNDS = 12;

  /** The variables every task sets: a value of one task found in another is a leak. */
  private static final List<ContextVar<Object>> SHARED = sharedVars(6);

  /** Marks "not bound" in the models, where {@code null} is a value. */
  private static final Object UNBOUND =
      new Object() {
        @Override
        public String toString() {
          return "<unbound>";
        }
      };

  /**
   * Each iteration makes 2 to {@link #POOL} tasks, each with its own Context, and runs {@link
   * #ROUNDS} rounds on a pool of {@link #POOL} threads: in a round, most tasks run one step each,
   * on distinct threads picked at random, and each step checks that it sees exactly its task's
   * values (a model kept along), sets, resets tokens of earlier steps (made on other threads),
   * copies, nests steps of its task, runs Contexts and executor tasks inline, and now and then
   * forgets a scope open. A step is left on time, or left open to be left late: before the task's
   * next step enters elsewhere (that step waits for it), after the next step's body (the leaving
   * thread waits for it), while it runs, or rounds later; leaves also come from other threads and
   * twice. Between rounds every task's Context is checked from outside; after each iteration every
   * step is left and every pool thread must be in its own empty context. Waits are latches and
   * futures, bounded, and cannot form a cycle: before its own step a thread waits only for the body
   * of a higher-numbered thread's step, or for a leave that another thread makes first thing in the
   * round; after its own step it waits only for other threads' bodies.
   */
  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void randomised_tasksSteppingAcrossAPoolWithLateLeaves_loseNoSetAndLeakNothing(
      ThreadFactory factory) throws Exception {
    // Another stream of choices on virtual threads than on platform ones, both from the seed.
    boolean virtual = factory.newThread(() -> {}).isVirtual();
    SplittableRandom random = new SplittableRandom(virtual ? ~SEED : SEED);
    Report report = new Report();
    List<PoolThread> pool = new ArrayList<>();
    for (int i = 0; i < POOL; i++) {
      pool.add(new PoolThread(i, newThread(factory), report));
    }
    for (int iteration = 0; iteration < ITERATIONS && report.mismatches.get() == 0; iteration++) {
      iteration(iteration, random.split(), pool, report);
    }

    assertThat(report.mismatches.get())
        .as(
            "seed %d (replay with -Dcv4j.seed=%d): mismatches; the first ones:%n%s",
            SEED, SEED, String.join(System.lineSeparator(), report.first))
        .isZero();
    for (PoolThread thread : pool) {
      assertThat(call(thread.executor, () -> Context.copyCurrent().asMap()))
          .as("seed %d: pool thread %d's own context holds nothing", SEED, thread.index)
          .isEmpty();
      assertThat(call(thread.executor, () -> ThreadState.current().context))
          .as("seed %d: pool thread %d is in its own context", SEED, thread.index)
          .isNull();
    }
    System.out.printf(
        "TaskStepsTest: seed %d, %s threads: %s%n",
        SEED, virtual ? "virtual" : "platform", report.stats());
    for (Stat stat : Stat.values()) {
      assertThat(report.count(stat))
          .as("seed %d: the run exercised %s (so the checks above meant something)", SEED, stat)
          .isPositive();
    }
  }

  private static void iteration(
      int iteration, SplittableRandom random, List<PoolThread> pool, Report report)
      throws Exception {
    List<TaskModel> tasks = new ArrayList<>();
    int taskCount = 2 + random.nextInt(POOL - 1);
    for (int t = 0; t < taskCount; t++) {
      TaskModel task = new TaskModel(t);
      int initial = random.nextInt(3);
      task.context.run(
          () -> {
            for (int i = 0; i < initial; i++) {
              ContextVar<Object> var = SHARED.get(random.nextInt(SHARED.size()));
              Object value = new Val(task.id, -1, -1, i);
              var.set(value);
              task.expected.put(var, value);
            }
          });
      tasks.add(task);
    }
    List<OpenStep> recentlyClosed = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      String where = "seed " + SEED + " iteration " + iteration + " round " + round;
      List<Plan> plans = plan(pool, tasks, recentlyClosed, round, where, random);
      List<Future<?>> futures = new ArrayList<>();
      for (PoolThread thread : pool) {
        Plan plan = plans.get(thread.index);
        futures.add(thread.executor.submit(() -> thread.guarded(where, () -> thread.round(plan))));
      }
      awaitAll(futures, where);
      for (PoolThread thread : pool) {
        recentlyClosed.addAll(thread.closedThisRound);
      }
      if (recentlyClosed.size() > 16) {
        recentlyClosed.subList(0, recentlyClosed.size() - 16).clear();
      }
      for (TaskModel task : tasks) {
        checkFromOutside(task, where, report);
      }
      if (report.mismatches.get() > 0) {
        return;
      }
    }
    String where = "seed " + SEED + " iteration " + iteration + " drain";
    List<Future<?>> futures = new ArrayList<>();
    for (PoolThread thread : pool) {
      SplittableRandom own = random.split();
      futures.add(thread.executor.submit(() -> thread.guarded(where, () -> thread.drain(own))));
    }
    awaitAll(futures, where);
    for (TaskModel task : tasks) {
      checkFromOutside(task, where, report);
    }
  }

  /** Decides who steps where this round, and when each open step is left. */
  private static List<Plan> plan(
      List<PoolThread> pool,
      List<TaskModel> tasks,
      List<OpenStep> recentlyClosed,
      int round,
      String where,
      SplittableRandom random) {
    List<Plan> plans = new ArrayList<>();
    for (int i = 0; i < POOL; i++) {
      plans.add(new Plan(where, round, random.split()));
    }
    List<Integer> threads = new ArrayList<>();
    for (int i = 0; i < POOL; i++) {
      threads.add(i);
    }
    shuffle(threads, random);
    Map<TaskModel, Integer> threadOf = new HashMap<>();
    Map<TaskModel, CountDownLatch> bodyDone = new HashMap<>();
    int next = 0;
    for (TaskModel task : tasks) {
      if (random.nextInt(5) == 0) {
        continue; // suspended for this round
      }
      int thread = threads.get(next++);
      Plan plan = plans.get(thread);
      plan.own = task;
      plan.ownBodyDone = new CountDownLatch(1);
      plan.ownLeavesOnTime = pool.get(thread).frames.size() >= 5 || random.nextInt(5) < 2;
      threadOf.put(task, thread);
      bodyDone.put(task, plan.ownBodyDone);
    }
    for (PoolThread thread : pool) {
      Plan plan = plans.get(thread.index);
      List<OpenStep> open = thread.openSteps();
      shuffle(open, random);
      boolean deep = thread.frames.size() >= 5;
      for (OpenStep step : open) {
        Integer nextThread = threadOf.get(step.task);
        boolean elsewhere = nextThread != null && nextThread != thread.index;
        int dice = random.nextInt(100);
        if (!deep && dice < 15) {
          continue; // stays open: left in a later round
        }
        if (dice < 30) {
          plan.leaveFirst.add(step);
        } else if (dice < 45 && elsewhere && plans.get(nextThread).ownEntersAfter == null) {
          // The previous step is left before the next one enters elsewhere: it waits for that.
          plan.leaveFirst.add(step);
          plans.get(nextThread).ownEntersAfter = step.closed;
        } else if (dice < 65 && elsewhere && nextThread > thread.index) {
          plan.leaveBeforeOwn.add(new PendingLeave(step, bodyDone.get(step.task)));
        } else if (dice < 85 && elsewhere) {
          plan.leaveAfterOwn.add(new PendingLeave(step, bodyDone.get(step.task)));
        } else {
          plan.leaveAfterOwn.add(new PendingLeave(step, null));
        }
      }
      List<OpenStep> candidates = new ArrayList<>(recentlyClosed);
      for (PoolThread other : pool) {
        if (other != thread) {
          candidates.addAll(other.openSteps());
        }
      }
      for (int n = random.nextInt(3); n > 0 && !candidates.isEmpty(); n--) {
        plan.foreign.add(candidates.get(random.nextInt(candidates.size())));
      }
    }
    return plans;
  }

  private static void awaitAll(List<Future<?>> futures, String where) {
    for (Future<?> future : futures) {
      try {
        ThreadKinds.await(future);
      } catch (Exception | Error e) {
        for (Future<?> other : futures) {
          other.cancel(true);
        }
        throw new AssertionError(
            where + ": a pool thread failed (replay with -Dcv4j.seed=" + SEED + ")", e);
      }
    }
  }

  private static void checkFromOutside(TaskModel task, String where, Report report) {
    Map<ContextVar<?>, Object> got = new HashMap<>(task.context.asMap());
    Map<ContextVar<?>, Object> want = new HashMap<>(task.expected);
    if (!got.equals(want)) {
      report.mismatch(
          where + ": task " + task.id + " read from outside holds " + got + ", expected " + want);
    }
  }

  /** A value that names the task, round and thread of its set, so that a leak says where from. */
  private record Val(int task, int round, int thread, int serial) {}

  /** What the randomised test counts, to show it exercised each case. */
  private enum Stat {
    STEPS,
    STEPS_ON_ANOTHER_THREAD_THAN_THE_PREVIOUS,
    STEPS_OPENED_ON_TOP_OF_ANOTHER_FRAME,
    LEFT_AFTER_THE_NEXT_STEPS_SETS,
    LEFT_BEFORE_THE_NEXT_STEP_ENTERED,
    CLOSED_BY_LEAVING_A_STEP_BELOW,
    STALE_LEAVES_ON_THE_OWN_THREAD,
    LEAVES_ON_ANOTHER_THREAD,
    RESETS_OF_ANOTHER_THREADS_TOKEN,
    NESTED_STEPS_OF_THE_SAME_TASK,
    NESTED_RUNS_AND_EXECUTOR_TASKS,
    SCOPES_CLOSED_BY_A_LEAVE,
  }

  /** The outcome of the randomised test: mismatches (the first ones described) and counts. */
  private static final class Report {
    final AtomicInteger mismatches = new AtomicInteger();
    final Queue<String> first = new ConcurrentLinkedQueue<>();
    private final AtomicIntegerArray counts = new AtomicIntegerArray(Stat.values().length);

    void mismatch(String what) {
      if (mismatches.incrementAndGet() <= 20) {
        first.add(what);
      }
    }

    void add(Stat stat) {
      counts.incrementAndGet(stat.ordinal());
    }

    int count(Stat stat) {
      return counts.get(stat.ordinal());
    }

    Map<Stat, Integer> stats() {
      Map<Stat, Integer> stats = new EnumMap<>(Stat.class);
      for (Stat stat : Stat.values()) {
        stats.put(stat, count(stat));
      }
      return stats;
    }
  }

  /**
   * A task of the randomised test: its Context and what it must hold. Used by one thread at a
   * time, the one running its step (the rounds, which end with a join, order them).
   */
  private static final class TaskModel {
    final int id;
    final Context context = new Context();
    final Map<ContextVar<Object>, @Nullable Object> expected = new HashMap<>();
    final List<Undo> tokens = new ArrayList<>();
    int lastThread = -1;

    TaskModel(int id) {
      this.id = id;
    }
  }

  /** A token not used yet, the value it replaced, and the pool thread that made it. */
  private record Undo(ContextVar<Object> var, Token<Object> token, @Nullable Object old, int thread) {}

  /** What is current on a pool thread, as the test has it: a step, or a scope over one. */
  private abstract static class Frame {
    final Context context;

    Frame(Context context) {
      this.context = context;
    }
  }

  private static final class OpenStep extends Frame {
    final TaskSteps.Step step;
    final TaskModel task;
    final int thread;
    final String name;

    /** Opened when the step is left (or closed by the leave of one below it) on its thread. */
    final CountDownLatch closed = new CountDownLatch(1);

    OpenStep(TaskSteps.Step step, TaskModel task, int thread, String name) {
      super(task.context);
      this.step = step;
      this.task = task;
      this.thread = thread;
      this.name = name;
    }
  }

  private static final class OpenScope extends Frame {
    final Context.Scope scope;
    final ContextVar<Object> var;
    final Object value;

    OpenScope(Context context, Context.Scope scope, ContextVar<Object> var, Object value) {
      super(context);
      this.scope = scope;
      this.var = var;
      this.value = value;
    }
  }

  /** A leave of an open step, after {@code after} opens (the next step's body), if not null. */
  private record PendingLeave(OpenStep step, @Nullable CountDownLatch after) {}

  /** What one pool thread does in one round, in this order. */
  private static final class Plan {
    final String where;
    final int round;
    final SplittableRandom random;
    final List<OpenStep> leaveFirst = new ArrayList<>();
    final List<PendingLeave> leaveBeforeOwn = new ArrayList<>();
    @Nullable CountDownLatch ownEntersAfter;
    @Nullable TaskModel own;
    CountDownLatch ownBodyDone = new CountDownLatch(0);
    boolean ownLeavesOnTime;
    final List<PendingLeave> leaveAfterOwn = new ArrayList<>();
    final List<OpenStep> foreign = new ArrayList<>();

    Plan(String where, int round, SplittableRandom random) {
      this.where = where;
      this.round = round;
      this.random = random;
    }
  }

  /**
   * A thread of the pool and its model: the frames open on it, bottom first. The model is used on
   * the thread during a round and read by the test between rounds (the join orders them).
   */
  private static final class PoolThread {
    final int index;
    final ExecutorService executor;
    final Report report;
    final List<Frame> frames = new ArrayList<>();
    final List<OpenStep> closedThisRound = new ArrayList<>();
    private String where = "";
    private int serial;

    PoolThread(int index, ExecutorService executor, Report report) {
      this.index = index;
      this.executor = executor;
      this.report = report;
    }

    List<OpenStep> openSteps() {
      List<OpenStep> open = new ArrayList<>();
      for (Frame frame : frames) {
        if (frame instanceof OpenStep step) {
          open.add(step);
        }
      }
      return open;
    }

    /** Runs {@code body}; what it throws is a mismatch too, and fails the round. */
    @Nullable Void guarded(String where, ThreadKinds.ThrowingRunnable body) throws Exception {
      this.where = where;
      try {
        body.run();
      } catch (Exception | Error e) {
        mismatch("threw " + e);
        throw e;
      }
      return null;
    }

    void round(Plan plan) {
      closedThisRound.clear();
      for (OpenStep step : plan.leaveFirst) {
        leave(step, "left before this round's step");
      }
      for (PendingLeave pending : plan.leaveBeforeOwn) {
        leave(pending);
      }
      TaskModel task = plan.own;
      if (task != null) {
        OpenStep own;
        try {
          CountDownLatch entersAfter = plan.ownEntersAfter;
          if (entersAfter != null) {
            await(entersAfter, "the previous step of task " + task.id + " to be left");
            report.add(Stat.LEFT_BEFORE_THE_NEXT_STEP_ENTERED);
          }
          own = step(task, plan.random, plan.round);
        } finally {
          plan.ownBodyDone.countDown();
        }
        if (plan.ownLeavesOnTime) {
          leave(own, "left on time");
        }
      }
      for (PendingLeave pending : plan.leaveAfterOwn) {
        leave(pending);
      }
      for (OpenStep step : plan.foreign) {
        leave(step, "a leave of a step of another thread, or of one left already");
      }
    }

    void drain(SplittableRandom random) {
      closedThisRound.clear();
      List<OpenStep> open = openSteps();
      shuffle(open, random);
      for (OpenStep step : open) {
        leave(step, "left at the end of the iteration");
      }
      if (!frames.isEmpty()) {
        mismatch("frames left after leaving every step: " + frames.size());
      }
      ThreadState state = ThreadState.current();
      if (state.top != 0 || state.bottom != 0) {
        mismatch("overlay slots left on the thread: bottom " + state.bottom + ", top " + state.top);
      }
      checkFrame("after leaving every step");
    }

    /** Opens and runs a step of {@code task}: the body of a coroutine between two suspensions. */
    private OpenStep step(TaskModel task, SplittableRandom random, int round) {
      String name = "step of task " + task.id + " in round " + round + " on thread " + index;
      if (!frames.isEmpty()) {
        report.add(Stat.STEPS_OPENED_ON_TOP_OF_ANOTHER_FRAME);
      }
      if (task.lastThread >= 0 && task.lastThread != index) {
        report.add(Stat.STEPS_ON_ANOTHER_THREAD_THAN_THE_PREVIOUS);
      }
      task.lastThread = index;
      OpenStep own = enter(task, name);
      report.add(Stat.STEPS);
      checkSees(task.expected, "entering the " + name);
      int ops = 1 + random.nextInt(6);
      for (int i = 0; i < ops; i++) {
        int dice = random.nextInt(100);
        if (dice < 40) {
          set(task, random, round);
        } else if (dice < 60) {
          reset(task, random);
        } else if (dice < 68) {
          checkCopies(task, name);
        } else if (dice < 80) {
          nestedStep(task, random, round, name);
        } else if (dice < 90) {
          nestedRun(task, random, round, name);
        } else {
          nestedExecutorTask(task, random, round, name);
        }
      }
      checkSees(task.expected, "at the end of the " + name);
      checkCopies(task, name);
      if (random.nextInt(8) == 0) {
        forgetAScope(task, random, round, name);
      }
      return own;
    }

    private OpenStep enter(TaskModel task, String name) {
      OpenStep step = new OpenStep(TaskSteps.enter(task.context), task, index, name);
      frames.add(step);
      checkFrame("after entering the " + name);
      return step;
    }

    private void leave(PendingLeave pending) {
      CountDownLatch after = pending.after();
      if (after != null) {
        await(after, "the next step of task " + pending.step().task.id);
        if (frames.contains(pending.step())) {
          report.add(Stat.LEFT_AFTER_THE_NEXT_STEPS_SETS);
        }
      }
      leave(pending.step(), after != null ? "left after the next step's sets" : "left late");
    }

    /** Leaves {@code step}: if it is open here, it and every frame above it close; else nothing. */
    private void leave(OpenStep step, String how) {
      int at = frames.indexOf(step);
      TaskSteps.leave(step.step);
      if (at < 0) {
        report.add(
            step.thread == index
                ? Stat.STALE_LEAVES_ON_THE_OWN_THREAD
                : Stat.LEAVES_ON_ANOTHER_THREAD);
      } else {
        List<Frame> above = new ArrayList<>(frames.subList(at, frames.size()));
        frames.subList(at, frames.size()).clear();
        for (int i = above.size() - 1; i >= 0; i--) {
          Frame frame = above.get(i);
          if (frame instanceof OpenStep closed) {
            if (closed.step.open) {
              mismatch("the " + closed.name + " is still open after the leave of the " + step.name);
            }
            closed.closed.countDown();
            closedThisRound.add(closed);
            if (closed != step) {
              report.add(Stat.CLOSED_BY_LEAVING_A_STEP_BELOW);
            }
          } else {
            checkClosedScope((OpenScope) frame, step.name);
          }
        }
      }
      checkFrame(how + ": " + step.name);
    }

    private void set(TaskModel task, SplittableRandom random, int round) {
      ContextVar<Object> var = SHARED.get(random.nextInt(SHARED.size()));
      Object value = random.nextInt(10) == 0 ? null : new Val(task.id, round, index, serial++);
      Object old = task.expected.containsKey(var) ? task.expected.get(var) : UNBOUND;
      Token<Object> token = var.set(value);
      task.expected.put(var, value);
      task.tokens.add(new Undo(var, token, old, index));
      if (task.tokens.size() > 24) {
        task.tokens.remove(0);
      }
      Object published = task.context.getOrDefault(var, UNBOUND);
      if (published != value) {
        mismatch(
            "a set of task "
                + task.id
                + " is not in its Context at once: "
                + var.name()
                + " holds "
                + published
                + ", set "
                + value);
      }
    }

    private void reset(TaskModel task, SplittableRandom random) {
      if (task.tokens.isEmpty()) {
        return;
      }
      Undo undo = task.tokens.remove(random.nextInt(task.tokens.size()));
      undo.var().reset(undo.token());
      if (undo.old() == UNBOUND) {
        task.expected.remove(undo.var());
      } else {
        task.expected.put(undo.var(), undo.old());
      }
      if (undo.thread() != index) {
        report.add(Stat.RESETS_OF_ANOTHER_THREADS_TOKEN);
      }
      if (!undo.token().isUsed()) {
        mismatch("a token of task " + task.id + " is not used after its reset");
      }
      checkSees(task.expected, "after a reset in task " + task.id);
    }

    private void checkCopies(TaskModel task, String name) {
      Map<ContextVar<?>, Object> want = new HashMap<>(task.expected);
      Map<ContextVar<?>, Object> copied = new HashMap<>(Context.copyCurrent().asMap());
      if (!copied.equals(want)) {
        mismatch("copyCurrent() in the " + name + " holds " + copied + ", expected " + want);
      }
      Map<ContextVar<?>, Object> ofTask = new HashMap<>(task.context.copy().asMap());
      if (!ofTask.equals(want)) {
        mismatch("a copy of task " + task.id + "'s Context holds " + ofTask + ", expected " + want);
      }
    }

    /** An undispatched withContext: a step of the same task inside this one. */
    private void nestedStep(TaskModel task, SplittableRandom random, int round, String name) {
      String nested = "nested " + name;
      OpenStep inner = enter(task, nested);
      report.add(Stat.NESTED_STEPS_OF_THE_SAME_TASK);
      checkSees(task.expected, "entering the " + nested);
      set(task, random, round);
      switch (random.nextInt(3)) {
        case 0 -> leave(inner, "left");
        case 1 -> {
          leave(inner, "left");
          leave(inner, "left twice");
        }
        default -> {
          // Left open: the rest of the body runs in it, and the leave of a step below leaves it.
        }
      }
      checkSees(task.expected, "after the " + nested);
    }

    /** Blocking code in a step running a copy of the step's values. */
    private void nestedRun(TaskModel task, SplittableRandom random, int round, String name) {
      report.add(Stat.NESTED_RUNS_AND_EXECUTOR_TASKS);
      Context copy = Context.copyCurrent();
      Map<ContextVar<Object>, @Nullable Object> inCopy = new HashMap<>(task.expected);
      ContextVar<Object> var = SHARED.get(random.nextInt(SHARED.size()));
      int sets = 1 + random.nextInt(2 * ThreadState.MAX_OVERLAY);
      Object[] last = new Object[1];
      copy.run(
          () -> {
            checkSees(inCopy, "in a copy run in the " + name);
            for (int i = 0; i < sets; i++) {
              last[0] = new Val(task.id, round, index, serial++);
              var.set(last[0]);
            }
            inCopy.put(var, last[0]);
            checkSees(inCopy, "after sets in a copy run in the " + name);
          });
      checkSees(task.expected, "after a copy run in the " + name);
      if (copy.getOrDefault(var, UNBOUND) != last[0]) {
        mismatch("the copy run in the " + name + " did not keep its set");
      }
    }

    /** Blocking code in a step running an executor task inline (a deferred task frame). */
    private void nestedExecutorTask(
        TaskModel task, SplittableRandom random, int round, String name) {
      report.add(Stat.NESTED_RUNS_AND_EXECUTOR_TASKS);
      Map<ContextVar<Object>, @Nullable Object> seen = new HashMap<>(task.expected);
      ContextVar<Object> var = SHARED.get(random.nextInt(SHARED.size()));
      Object value = new Val(task.id, round, index, serial++);
      boolean sets = random.nextBoolean();
      ContextExecutors.capture(
              () -> {
                checkSees(seen, "in an executor task in the " + name);
                if (sets) {
                  var.set(value);
                  seen.put(var, value);
                  checkSees(seen, "after a set in an executor task in the " + name);
                }
              })
          .run();
      checkSees(task.expected, "after an executor task in the " + name);
    }

    /** The body enters a Context and suspends without closing the scope. */
    private void forgetAScope(TaskModel task, SplittableRandom random, int round, String name) {
      Context other = new Context();
      ContextVar<Object> var = SHARED.get(random.nextInt(SHARED.size()));
      Object value = new Val(task.id, round, index, serial++);
      Context.Scope scope = other.enter();
      var.set(value);
      frames.add(new OpenScope(other, scope, var, value));
      checkFrame("a scope forgotten in the " + name);
      Object want = task.expected.containsKey(var) ? task.expected.get(var) : UNBOUND;
      if (task.context.getOrDefault(var, UNBOUND) != want) {
        mismatch("the set in a scope forgotten in the " + name + " reached the task");
      }
    }

    private void checkClosedScope(OpenScope frame, String leftStep) {
      report.add(Stat.SCOPES_CLOSED_BY_A_LEAVE);
      try {
        frame.scope.close();
        mismatch("a scope forgotten under the " + leftStep + " was still open after its leave");
      } catch (IllegalStateException e) {
        if (!String.valueOf(e.getMessage()).contains("already closed")) {
          mismatch("the close of a scope closed by a leave said: " + e.getMessage());
        }
      }
      if (frame.context.getOrDefault(frame.var, UNBOUND) != frame.value) {
        mismatch("a Context entered by a forgotten scope lost its set");
      }
      try {
        frame.context.run(
            () -> {
              if (frame.var.getOrDefault(UNBOUND) != frame.value) {
                mismatch("a Context entered by a forgotten scope, run again, lost its set");
              }
            });
      } catch (IllegalStateException e) {
        mismatch("a Context entered by a forgotten scope was left entered: " + e.getMessage());
      }
    }

    /** Checks that the thread is in the frame the model says, and in its own context if none. */
    private void checkFrame(String where) {
      ThreadState state = ThreadState.current();
      Frame top = frames.isEmpty() ? null : frames.get(frames.size() - 1);
      Context want = top == null ? null : top.context;
      if (state.context != want) {
        mismatch(where + ": the current context is " + name(state.context) + ", not " + name(want));
      }
      boolean wantStep = top instanceof OpenStep;
      if (state.inStep() != wantStep) {
        mismatch(where + ": in a step frame: " + state.inStep() + ", expected " + wantStep);
      }
      if (top == null) {
        Map<ContextVar<?>, Object> own = Context.copyCurrent().asMap();
        if (!own.isEmpty()) {
          mismatch(where + ": the thread's own context holds " + own);
        }
      }
    }

    private void checkSees(Map<ContextVar<Object>, @Nullable Object> expected, String where) {
      for (ContextVar<Object> var : SHARED) {
        Object want = expected.containsKey(var) ? expected.get(var) : UNBOUND;
        Object got = var.getOrDefault(UNBOUND);
        if (got != want) {
          mismatch(where + ": " + var.name() + " holds " + got + ", expected " + want);
        }
        if (var.isBound() != (want != UNBOUND)) {
          mismatch(where + ": " + var.name() + ".isBound() is " + var.isBound());
        }
      }
    }

    private void await(CountDownLatch latch, String what) {
      try {
        if (!latch.await(ThreadKinds.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          mismatch("timed out waiting for " + what);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        mismatch("interrupted waiting for " + what);
      }
    }

    private void mismatch(String what) {
      report.mismatch(where + ", pool thread " + index + ": " + what);
    }

    private static String name(@Nullable Context context) {
      return context == null ? "the thread's own" : context.identity();
    }
  }

  /* ---- helpers ---- */

  /** {@link TaskSteps#enter}, on any thread; the step is left after the test if still open. */
  private TaskSteps.Step enter(Context task) {
    TaskSteps.Step step = TaskSteps.enter(task);
    opened.add(step);
    return step;
  }

  private static List<ContextVar<Object>> sharedVars(int count) {
    List<ContextVar<Object>> vars = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      vars.add(ContextVar.named("shared" + i));
    }
    return Collections.unmodifiableList(vars);
  }

  private static <T> void shuffle(List<T> list, SplittableRandom random) {
    for (int i = list.size() - 1; i > 0; i--) {
      Collections.swap(list, i, random.nextInt(i + 1));
    }
  }

  /** A thread of the test: a single-thread executor, shut down after the test. */
  private ExecutorService newThread(ThreadFactory factory) {
    ExecutorService thread = Executors.newSingleThreadExecutor(factory);
    threads.add(thread);
    return thread;
  }

  /** Runs {@code action} on {@code thread} and waits (bounded); rethrows what it threw. */
  private static void run(ExecutorService thread, ThreadKinds.ThrowingRunnable action)
      throws Exception {
    ThreadKinds.await(
        thread.submit(
            () -> {
              action.run();
              return null;
            }));
  }

  /** Calls {@code action} on {@code thread} and waits (bounded); rethrows what it threw. */
  private static <T> T call(ExecutorService thread, Callable<T> action) throws Exception {
    return ThreadKinds.await(thread.submit(action));
  }

  private static void assertInOwnEmptyContext(String where) {
    ThreadState state = ThreadState.current();
    assertThat(state.context).as("%s: the thread is in its own context", where).isNull();
    assertThat(state.inStep()).as("%s: not in a step", where).isFalse();
    assertThat(Context.copyCurrent().asMap())
        .as("%s: nothing leaked into the thread's own context", where)
        .isEmpty();
  }

  private static Context contextWith(ContextVar<String> var, String value) {
    Context context = new Context();
    context.run(() -> var.set(value));
    return context;
  }

  private static Map<ContextVar<?>, Object> mapOf(Object... keysAndValues) {
    Map<ContextVar<?>, Object> map = new HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((ContextVar<?>) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }
}
