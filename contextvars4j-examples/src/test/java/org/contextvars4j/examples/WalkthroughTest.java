package org.contextvars4j.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.assertj.core.groups.Tuple;
import org.contextvars4j.Context;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * Runs the walkthrough's scenarios and checks that each behaves as the blog post says: scenarios 1
 * to 3 and 5 share or isolate as described, scenario 4 shows the leak (and the lost values); and
 * that scenarios 6 to 9 show each Java trap (lost values, leaks) next to its fix with {@code
 * org.contextvars4j.concurrent} (the submitter's values carried, nothing leaked).
 *
 * <p>Each scenario is checked twice over: on the values it observed (which uuid equals which), and
 * on the verdicts it printed, which are computed from those values by the main code.
 */
final class WalkthroughTest {

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(printed, true, UTF_8);
  private final Demo demo = new Demo(out, new CountingUuids());

  /** The walkthrough plays every scenario in a context of its own: the caller's stays as it was. */
  @AfterEach
  void callerContextIsUntouched() {
    assertThat(demo.ctx.isBound()).as("ctx leaked into the test thread's context").isFalse();
    assertThat(Context.copyCurrent().size()).as("the test thread's context changed").isZero();
  }

  /* ---- scenario 1 ---- */

  @Test
  void scenario1_nestedCalls_allPrintTheSameValue() throws Exception {
    var result = (Scenario1SameValue.Result) Walkthrough.play(new Scenario1SameValue(), demo);

    assertThat(List.of(result.nested1(), result.nested2())).containsOnly(result.outer());
    assertThat(result.outer())
        .as("outer set a fresh uuid, since ctx was not bound")
        .isNotEqualTo(demo.ctx.get());
    assertThat(answers(result)).containsExactly(tuple("same value in all three", true));
  }

  @Test
  void scenario1_output_readsLikeThePost() throws Exception {
    Walkthrough.play(new Scenario1SameValue(), demo);

    // The default took uuid 1, so outer set uuid 2.
    assertThat(printed())
        .contains(
            "== 1. functions called from outer() see outer's value ==",
            "Python showed: outer() prints ctx.get()",
            "    outer prints                           00000002",
            "    nested_1 prints                        00000002",
            "    nested_2 prints                        00000002",
            "  verdict: same value in all three: yes");
  }

  /* ---- scenario 2 ---- */

  @Test
  void scenario2_setInFirstNested_isSeenBySecondAndByOuter() throws Exception {
    var result =
        (Scenario2SetIsSeenLater.Result) Walkthrough.play(new Scenario2SetIsSeenLater(), demo);

    assertThat(result.nested1()).isNotEqualTo(result.outer());
    assertThat(result.nested2()).isEqualTo(result.nested1());
    assertThat(result.outerAfter()).isEqualTo(result.nested1());
    assertThat(answers(result))
        .containsExactly(
            tuple("nested_1 prints a new value", true),
            tuple("nested_2 prints nested_1's new value", true),
            tuple("outer sees the new value after the calls", true));
  }

  /* ---- scenario 3 ---- */

  @Test
  void scenario3_copyRun_keepsTheSetInsideTheCopy() throws Exception {
    var result = (Scenario3CopyIsolates.Result) Walkthrough.play(new Scenario3CopyIsolates(), demo);

    assertThat(
            List.of(result.inCopy(), result.nestedSaw(), result.outerAfter(), result.laterCall()))
        .containsOnly(result.outer());
    assertThat(result.nestedSet()).isNotEqualTo(result.outer());
    assertThat(result.copyAfter()).isEqualTo(result.nestedSet());
    assertThat(answers(result))
        .containsExactly(
            tuple("copy.get(ctx) is outer's value", true),
            tuple("nested, in the copy, first sees outer's value", true),
            tuple("outer still sees the original after copy.run", true),
            tuple("a later plain call sees the original", true),
            tuple("the set stayed inside the copy", true));
  }

  /* ---- scenario 4 ---- */

  @Test
  void scenario4_stageAttachedOutsideTheCopy_leaksToCallerAndNextCall() throws Exception {
    var future = scenario4().future();

    assertThat(future.created())
        .as("the future was made inside the copy")
        .isEqualTo(future.outer());
    assertThat(future.stage().thread()).isEqualTo(Thread.currentThread().getName());
    assertThat(future.stage().saw()).isEqualTo(future.outer());
    assertThat(List.of(future.outerAfter(), future.nextCall())).containsOnly(future.stage().set());
    assertThat(future.copyAfter()).as("the copy never saw the set").isEqualTo(future.outer());
    assertThat(answers(future))
        .containsExactly(
            tuple("the future was created inside the copy", true),
            tuple("nested's set leaked to the caller", true),
            tuple("nested's set leaked to the next call", true),
            tuple("the copy got nested's set", false));
  }

  @Test
  void scenario4_plainExecutorAndVirtualThread_loseTheValue() throws Exception {
    var lost = scenario4().lost();

    for (Seen seen : List.of(lost.pool(), lost.virtual())) {
      assertThat(seen.bound()).as("ctx bound on %s", seen.thread()).isFalse();
      assertThat(seen.value()).as("ctx.get() falls back to the default").isEqualTo(defaultValue());
      assertThat(seen.threadLocal()).as("ThreadLocal on %s", seen.thread()).isNull();
    }
    assertThat(lost.pool().thread()).startsWith(Demo.THREAD_PREFIX + "pitfall-");
    assertThat(answers(lost))
        .containsExactly(
            tuple("the pool task sees the submitter's ContextVar value", false),
            tuple("the pool task sees the submitter's ThreadLocal value", false),
            tuple("the virtual thread sees the submitter's ContextVar value", false),
            tuple("the virtual thread sees the submitter's ThreadLocal value", false));
    assertThat(printed()).contains("the default: not bound on " + lost.pool().thread());
  }

  @Test
  void scenario4_pooledThread_leaksRequestAsValuesToRequestB() throws Exception {
    var leak = scenario4().leak();

    assertThat(leak.requestB().thread()).isEqualTo(leak.threadA());
    assertThat(leak.requestB().threadLocal()).isEqualTo(leak.requestA());
    assertThat(leak.requestB().bound()).isTrue();
    assertThat(leak.requestB().value()).isEqualTo(leak.requestA());
    assertThat(answers(leak))
        .containsExactly(
            tuple("both requests ran on the same pooled thread", true),
            tuple("request B sees request A's ThreadLocal value", true),
            tuple("request B sees request A's ContextVar value (pool thread's own context)", true));
  }

  @Test
  void scenario4_play_removesItsThreadLocalFromTheCallerThread() throws Exception {
    Scenario4Pitfall scenario = new Scenario4Pitfall();
    Walkthrough.play(scenario, demo);

    assertThat(scenario.requestId.get()).isNull();
  }

  /* ---- scenario 5 ---- */

  @Test
  void scenario5_createTaskWithContext_keepsTheSetInsideTheTask() throws Exception {
    var task = scenario5().task();

    assertThat(task.task().thread()).startsWith(Demo.THREAD_PREFIX + "fix-");
    assertThat(task.task().saw()).isEqualTo(task.outer());
    assertThat(List.of(task.outerAfter(), task.nextCall())).containsOnly(task.outer());
    assertThat(task.copyAfter()).isEqualTo(task.task().set());
    assertThat(answers(task))
        .containsExactly(
            tuple("the task ran on another thread", true),
            tuple("the task first sees outer's value", true),
            tuple("outer still sees the original after the task", true),
            tuple("the next call sees the original", true),
            tuple("the set stayed inside the task's context (copy)", true));
  }

  @Test
  void scenario5_createTaskWithContext_isCopyWrapOnThePool() throws Exception {
    Walkthrough.play(new Scenario5Fix(), demo);

    assertThat(printed())
        .contains(
            "In Java:       create_task(coro, context=copy_ctx) is pool.submit(copy.wrap(task))",
            "  5a. pool.submit(copy.wrap(nested)): create_task(nested(), context=copy_ctx)",
            "  5b. ContextExecutors.wrap(pool).submit(nested): create_task(nested()), a copy per"
                + " task");
  }

  @Test
  void scenario5_defaultCopy_eachTaskGetsACopyOfTheSubmittersContext() throws Exception {
    var copied = scenario5().defaultCopy();

    assertThat(copied.task().thread()).startsWith(Demo.THREAD_PREFIX + "fix-");
    assertThat(copied.task().saw()).isEqualTo(copied.outer());
    assertThat(copied.task().set()).isNotEqualTo(copied.outer());
    assertThat(List.of(copied.outerAfter(), copied.nextCall())).containsOnly(copied.outer());
    assertThat(copied.nextTask().thread()).isEqualTo(copied.task().thread());
    assertThat(copied.nextTask().sawBound(copied.outer()))
        .as("the second task, on the same thread, sees the submitter's value, not the first's set")
        .isTrue();
    assertThat(answers(copied))
        .containsExactly(
            tuple("the task ran on another thread", true),
            tuple("the task first sees outer's value", true),
            tuple("outer still sees the original after the task", true),
            tuple("the next call sees the original", true),
            tuple("a second task sees the original, not the first task's set", true));
  }

  @Test
  void scenario5_stageBoundToASnapshot_keepsTheSetInsideTheStage() throws Exception {
    var stage = scenario5().stage();

    assertThat(stage.stage().thread())
        .as("same thread as in 4a: only the context differs")
        .isEqualTo(Thread.currentThread().getName());
    assertThat(stage.stage().saw()).isEqualTo(stage.outer());
    assertThat(stage.stage().set()).isNotEqualTo(stage.outer());
    assertThat(List.of(stage.outerAfter(), stage.nextCall())).containsOnly(stage.outer());
    assertThat(answers(stage))
        .containsExactly(
            tuple("the stage first sees outer's value", true),
            tuple("outer still sees the original after the stage", true),
            tuple("the next call sees the original", true));
  }

  @Test
  void scenario5_tasksBoundToSnapshots_getTheValueAndLeakNothing() throws Exception {
    var tasks = scenario5().tasks();

    assertThat(tasks.seenByA().sawBound(tasks.requestA())).isTrue();
    assertThat(tasks.virtual().sawBound(tasks.requestA())).isTrue();
    assertThat(tasks.requestB().thread()).isEqualTo(tasks.seenByA().thread());
    assertThat(tasks.requestB().bound()).as("request A's set stayed in its snapshot").isFalse();
    assertThat(tasks.requestB().value()).isEqualTo(defaultValue());
    assertThat(answers(tasks))
        .containsExactly(
            tuple("the pool task sees the submitter's value", true),
            tuple("the virtual thread sees the submitter's value", true),
            tuple("both requests ran on the same pooled thread", true),
            tuple("request B sees a value left by request A", false));
  }

  /* ---- scenario 6 ---- */

  @Test
  void scenario6_plainPool_losesTheValueAndLeaksItToTheNextRequest() throws Exception {
    var plain = scenario6().plain();

    Seen taskA = plain.taskA().saw();
    assertThat(taskA.thread()).isEqualTo(Demo.THREAD_PREFIX + "exec-1");
    assertThat(taskA.bound()).as("the pool thread never had the submitter's context").isFalse();
    assertThat(taskA.value()).isEqualTo(defaultValue());
    assertThat(plain.submitterAfter()).isEqualTo(plain.requestA());
    assertThat(plain.requestB().thread()).isEqualTo(taskA.thread());
    assertThat(plain.requestB().sawBound(plain.taskA().set())).isTrue();
    assertThat(answers(plain))
        .containsExactly(
            tuple("request A's task sees its submitter's value", false),
            tuple("request A's submitter still sees its own value after the task", true),
            tuple("both requests' tasks ran on the same pooled thread", true),
            tuple("request B's task sees the value request A's task set", true));
  }

  @Test
  void scenario6_wrappedPool_carriesTheValueAndLeaksNothing() throws Exception {
    var wrapped = scenario6().wrapped();

    Seen taskA = wrapped.taskA().saw();
    assertThat(taskA.thread())
        .as("the same pool thread the plain tasks ran on")
        .isEqualTo(Demo.THREAD_PREFIX + "exec-1");
    assertThat(taskA.sawBound(wrapped.requestA())).isTrue();
    assertThat(wrapped.submitterAfter()).isEqualTo(wrapped.requestA());
    assertThat(wrapped.requestB().thread()).isEqualTo(taskA.thread());
    assertThat(wrapped.requestB().bound())
        .as("request B set nothing, and the thread's leftover from 6a is not seen either")
        .isFalse();
    assertThat(wrapped.requestB().value()).isEqualTo(defaultValue());
    assertThat(answers(wrapped))
        .containsExactly(
            tuple("request A's task sees its submitter's value", true),
            tuple("request A's submitter still sees its own value after the task", true),
            tuple("both requests' tasks ran on the same pooled thread", true),
            tuple("request B's task sees the value request A's task set", false));
  }

  @Test
  void scenario6_plainPeriodicTask_eachRunSeesThePreviousRunsSet() throws Exception {
    var periodic = scenario6().plainPeriodic();

    List<Work> runs = periodic.runs();
    assertThat(runs).hasSize(Scenario6Executors.RUNS);
    assertThat(runs.stream().map(run -> run.saw().thread()))
        .containsOnly(Demo.THREAD_PREFIX + "sched-1");
    assertThat(runs.getFirst().saw().bound()).isFalse();
    for (int i = 1; i < runs.size(); i++) {
      assertThat(runs.get(i).saw().sawBound(runs.get(i - 1).set())).as("run %d", i + 1).isTrue();
    }
    assertThat(periodic.schedulerAfter()).isEqualTo(periodic.scheduler());
    assertThat(answers(periodic))
        .containsExactly(
            tuple("every run sees the scheduler's value", false),
            tuple("a run sees the previous run's set", true),
            tuple("the scheduling code still sees its own value", true));
  }

  @Test
  void scenario6_wrappedPeriodicTask_eachRunStartsFromTheCapturedValue() throws Exception {
    var periodic = scenario6().wrappedPeriodic();

    List<Work> runs = periodic.runs();
    assertThat(runs).hasSize(Scenario6Executors.RUNS);
    assertThat(runs).allMatch(run -> run.saw().sawBound(periodic.scheduler()));
    assertThat(runs.stream().map(Work::set)).doesNotHaveDuplicates();
    assertThat(periodic.schedulerAfter()).isEqualTo(periodic.scheduler());
    assertThat(answers(periodic))
        .containsExactly(
            tuple("every run sees the scheduler's value", true),
            tuple("a run sees the previous run's set", false),
            tuple("the scheduling code still sees its own value", true));
  }

  /* ---- scenario 7 ---- */

  @Test
  void scenario7_plainFuture_stageAttachedOutsideTheCopy_leaksToTheCaller() throws Exception {
    var plain = scenario7().plainOutside();

    assertThat(plain.supplier().thread()).isEqualTo(Demo.THREAD_PREFIX + "cfplain-1");
    assertThat(plain.supplier().bound())
        .as("the supplier ran in the pool thread's context")
        .isFalse();
    assertThat(plain.stage().saw().thread()).isEqualTo(Thread.currentThread().getName());
    assertThat(plain.stage().saw().sawBound(plain.outer())).isTrue();
    assertThat(plain.outerAfter()).isEqualTo(plain.stage().set());
    assertThat(answers(plain))
        .containsExactly(
            tuple("the supplier sees the value where the future was created", false),
            tuple("the stage sees the value where it was attached", true),
            tuple("the stage's set leaked to the caller", true));
  }

  @Test
  void scenario7_contextFutures_supplierSeesItsCreatorStageSeesItsAttacher() throws Exception {
    var fixed = scenario7().libraryOutside();

    assertThat(fixed.supplier().thread()).isEqualTo(Demo.THREAD_PREFIX + "cffix-1");
    assertThat(fixed.supplier().sawBound(fixed.inner())).isTrue();
    assertThat(fixed.inner()).isNotEqualTo(fixed.outer());
    assertThat(fixed.stage().saw().thread()).isEqualTo(Thread.currentThread().getName());
    assertThat(fixed.stage().saw().sawBound(fixed.outer())).isTrue();
    assertThat(fixed.outerAfter()).isEqualTo(fixed.outer());
    assertThat(answers(fixed))
        .containsExactly(
            tuple("the supplier sees the value where the future was created", true),
            tuple("the stage sees the value where it was attached", true),
            tuple("the stage's set leaked to the caller", false));
  }

  @Test
  void scenario7_plainFuture_completedElsewhere_stageRunsInTheCompletersContext()
      throws Exception {
    var plain = scenario7().plainElsewhere();

    assertThat(plain.completer()).isEqualTo(Demo.THREAD_PREFIX + "cfplain-1");
    assertThat(plain.stage().saw().thread()).isEqualTo(plain.completer());
    assertThat(plain.stage().saw().bound()).isFalse();
    assertThat(plain.attacherAfter()).isEqualTo(plain.attacher());
    assertThat(plain.nextTask().sawBound(plain.stage().set())).isTrue();
    assertThat(answers(plain))
        .containsExactly(
            tuple("the stage ran on the completing thread", true),
            tuple("the stage sees the value where it was attached", false),
            tuple("the attaching code still sees its own value", true),
            tuple("the stage's set stayed on the completing thread for its next task", true));
  }

  @Test
  void scenario7_wrappedFuture_completedElsewhere_stageRunsInACopyOfTheAttachersContext()
      throws Exception {
    var fixed = scenario7().libraryElsewhere();

    assertThat(fixed.completer()).isEqualTo(Demo.THREAD_PREFIX + "cffix-1");
    assertThat(fixed.stage().saw().thread()).isEqualTo(fixed.completer());
    assertThat(fixed.stage().saw().sawBound(fixed.attacher())).isTrue();
    assertThat(fixed.attacherAfter()).isEqualTo(fixed.attacher());
    assertThat(fixed.nextTask().bound()).isFalse();
    assertThat(answers(fixed))
        .containsExactly(
            tuple("the stage ran on the completing thread", true),
            tuple("the stage sees the value where it was attached", true),
            tuple("the attaching code still sees its own value", true),
            tuple("the stage's set stayed on the completing thread for its next task", false));
  }

  /* ---- scenario 8 ---- */

  @Test
  void scenario8_plainVirtualThreads_startInAnEmptyContext() throws Exception {
    var plain = scenario8().plain();

    assertThat(plain.thread().thread()).isEqualTo(Demo.THREAD_PREFIX + "virtual");
    assertThat(plain.task().thread()).startsWith("virtual#");
    for (Seen seen : List.of(plain.thread(), plain.task())) {
      assertThat(seen.bound()).as("ctx bound on %s", seen.thread()).isFalse();
      assertThat(seen.value()).isEqualTo(defaultValue());
    }
    assertThat(answers(plain))
        .containsExactly(
            tuple("Thread.ofVirtual().start(...) sees the starter's value", false),
            tuple(
                "a task of Executors.newVirtualThreadPerTaskExecutor() sees the submitter's value",
                false));
  }

  @Test
  void scenario8_contextThreads_carryTheStartersValue_capturedAtUnstarted() throws Exception {
    var threads = scenario8().threads();

    assertThat(threads.thread().saw().thread()).isEqualTo(Demo.THREAD_PREFIX + "virtual");
    assertThat(threads.thread().saw().sawBound(threads.starter())).isTrue();
    assertThat(threads.starterAfter()).isEqualTo(threads.starter());
    assertThat(threads.atUnstarted()).isNotEqualTo(threads.atStart());
    assertThat(threads.unstarted().sawBound(threads.atUnstarted())).isTrue();
    assertThat(answers(threads))
        .containsExactly(
            tuple("ContextThreads.start(Thread.ofVirtual(), ...) sees the starter's value", true),
            tuple("the thread's set reaches the starter", false),
            tuple("ContextThreads.unstarted captures at unstarted(), not at start()", true));
  }

  @Test
  void scenario8_contextVirtualThreadPerTaskExecutor_givesEachTaskACopy() throws Exception {
    var perTask = scenario8().executor();

    assertThat(perTask.first().saw().thread()).startsWith("virtual#");
    assertThat(perTask.first().saw().sawBound(perTask.submitter())).isTrue();
    assertThat(perTask.second().sawBound(perTask.submitter())).isTrue();
    assertThat(answers(perTask))
        .containsExactly(
            tuple(
                "each task of ContextExecutors' virtual-thread executor sees the submitter's value",
                true),
            tuple("the second task sees the first task's set", false));
  }

  /* ---- scenario 9 ---- */

  @Test
  void scenario9_ctxWrap_runsInThatVeryContext() throws Exception {
    var same = scenario9().sameObject();

    assertThat(same.first().saw().thread()).isEqualTo(Demo.THREAD_PREFIX + "same-1");
    assertThat(same.first().saw().sawBound(same.caller())).isTrue();
    assertThat(same.second().thread())
        .as("another thread: the set travelled in the Context object, not in the thread")
        .isEqualTo(Demo.THREAD_PREFIX + "same-2");
    assertThat(same.second().sawBound(same.first().set())).isTrue();
    assertThat(same.inCtx()).isEqualTo(same.first().set());
    assertThat(same.callerAfter()).isEqualTo(same.caller());
    assertThat(answers(same))
        .containsExactly(
            tuple("the task sees ctx's value", true),
            tuple("ctx.get(var) shows the task's set afterwards", true),
            tuple("the next task wrapped with ctx sees the first task's set", true),
            tuple("the caller's own context sees the task's set", false));
  }

  @Test
  void scenario9_ctxWrap_twoAtOnce_isTheAlreadyEnteredError() throws Exception {
    var atOnce = scenario9().atOnce();

    assertThat(atOnce.failure())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already entered on thread \"" + Demo.THREAD_PREFIX + "once-1\"");
    assertThat(atOnce.firstCompleted()).isTrue();
    assertThat(answers(atOnce))
        .containsExactly(
            tuple("the second task fails with IllegalStateException: already entered", true),
            tuple("the first task completes", true));
    assertThat(printed())
        .contains("    the second task threw:  java.lang.IllegalStateException: Context@");
  }

  @Test
  void scenario9_executorWrapper_givesEachOfTwoConcurrentTasksItsOwnCopy() throws Exception {
    var copies = scenario9().copies();

    assertThat(copies.failure()).isNull();
    assertThat(copies.a().saw().thread()).isEqualTo(Demo.THREAD_PREFIX + "copy-1");
    assertThat(copies.b().saw().thread()).isEqualTo(Demo.THREAD_PREFIX + "copy-2");
    for (var task : List.of(copies.a(), copies.b())) {
      assertThat(task.saw().sawBound(copies.submitter())).isTrue();
      assertThat(task.afterBoth()).isEqualTo(task.set());
    }
    assertThat(copies.a().set()).isNotEqualTo(copies.b().set());
    assertThat(copies.submitterAfter()).isEqualTo(copies.submitter());
    assertThat(answers(copies))
        .containsExactly(
            tuple("both tasks run at the same time", true),
            tuple("each task first sees the submitter's value", true),
            tuple("each task sees its own set after both set", true),
            tuple("the submitter sees a task's set", false));
  }

  /* ---- the whole walkthrough ---- */

  @Test
  void run_printsEveryScenarioInOrder_withTheVerdictsItReturns() throws Exception {
    List<Scenario.Outcome> outcomes = Walkthrough.run(out, new CountingUuids());

    assertThat(outcomes).hasSize(9);
    List<String> lines = printed().lines().toList();
    assertThat(
            lines.stream().filter(line -> line.startsWith("== ")).map(line -> line.substring(0, 5)))
        .containsExactly(
            "== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6.", "== 7.", "== 8.", "== 9.");
    assertThat(lines.stream().filter(line -> line.startsWith("Python showed: "))).hasSize(5);
    assertThat(lines.stream().filter(line -> line.startsWith("Python does:   "))).hasSize(4);
    int beyond = lines.indexOf(Walkthrough.BEYOND_THE_POST);
    assertThat(beyond)
        .as("the post's scenarios first, then the line that leads to Java's own traps")
        .isGreaterThan(indexOfHeader(lines, "== 5."))
        .isLessThan(indexOfHeader(lines, "== 6."));
    List<String> expectedVerdictLines =
        outcomes.stream()
            .flatMap(outcome -> outcome.verdicts().stream())
            .map(verdict -> "  verdict: " + verdict.line())
            .toList();
    assertThat(lines.stream().filter(line -> line.startsWith("  verdict: ")))
        .as("every returned verdict is printed, in order, and nothing else")
        .containsExactlyElementsOf(expectedVerdictLines);
    assertThat(lines.getLast())
        .isEqualTo(
            "%d of %d verdicts as expected: yes"
                .formatted(expectedVerdictLines.size(), expectedVerdictLines.size()));
    assertThat(lines).noneMatch(line -> line.length() > Demo.WIDTH);
  }

  @RepeatedTest(20)
  void run_withRandomUuids_everyVerdictIsAsExpected() throws Exception {
    List<Scenario.Outcome> outcomes = Walkthrough.run(out, UUID::randomUUID);

    assertThat(outcomes.stream().flatMap(outcome -> outcome.verdicts().stream()))
        .hasSize(82)
        .allSatisfy(verdict -> assertThat(verdict.asExpected()).as(verdict.line()).isTrue());
  }

  @Test
  void verdict_thatDiffersFromTheExpectedAnswer_isFlagged() {
    assertThat(new Verdict("claim", true, true).line()).isEqualTo("claim: yes");
    assertThat(new Verdict("claim", false, false).line()).isEqualTo("claim: no");
    assertThat(new Verdict("claim", false, true).line())
        .isEqualTo("claim: no   <-- UNEXPECTED: expected yes");
  }

  @Test
  void run_endsEveryThreadItStarts() throws Exception {
    Walkthrough.run(out, UUID::randomUUID);

    List<Thread> started =
        Thread.getAllStackTraces().keySet().stream()
            .filter(thread -> thread.getName().startsWith(Demo.THREAD_PREFIX))
            .toList();
    for (Thread thread : started) {
      // A pool's thread may still be returning from its run() just after the pool terminated.
      thread.join(Duration.ofSeconds(1));
    }
    assertThat(started).noneMatch(Thread::isAlive);
  }

  @Test
  void run_takesLessThanTwoSeconds() {
    assertTimeoutPreemptively(Duration.ofSeconds(2), () -> Walkthrough.run(out, UUID::randomUUID));
  }

  /* ---- helpers ---- */

  private Scenario4Pitfall.Result scenario4() throws Exception {
    return (Scenario4Pitfall.Result) Walkthrough.play(new Scenario4Pitfall(), demo);
  }

  private Scenario5Fix.Result scenario5() throws Exception {
    return (Scenario5Fix.Result) Walkthrough.play(new Scenario5Fix(), demo);
  }

  private Scenario6Executors.Result scenario6() throws Exception {
    return (Scenario6Executors.Result) Walkthrough.play(new Scenario6Executors(), demo);
  }

  private Scenario7Futures.Result scenario7() throws Exception {
    return (Scenario7Futures.Result) Walkthrough.play(new Scenario7Futures(), demo);
  }

  private Scenario8VirtualThreads.Result scenario8() throws Exception {
    return (Scenario8VirtualThreads.Result) Walkthrough.play(new Scenario8VirtualThreads(), demo);
  }

  private Scenario9SameContextOrCopies.Result scenario9() throws Exception {
    return (Scenario9SameContextOrCopies.Result)
        Walkthrough.play(new Scenario9SameContextOrCopies(), demo);
  }

  private static int indexOfHeader(List<String> lines, String prefix) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(prefix)) {
        return i;
      }
    }
    throw new AssertionError("no line starts with " + prefix);
  }

  /** {@return ctx's default, read where ctx is not bound: in a new, empty context} */
  private UUID defaultValue() {
    return new Context().call(demo.ctx::get);
  }

  private String printed() {
    return printed.toString(UTF_8);
  }

  private static List<Tuple> answers(Scenario.Outcome outcome) {
    return outcome.verdicts().stream()
        .map(verdict -> tuple(verdict.claim(), verdict.holds()))
        .toList();
  }

  /** uuid n has n, in 8 hex digits, as its short form: 00000001, 00000002, ... */
  private static final class CountingUuids implements Supplier<UUID> {
    private long next = 1;

    @Override
    public UUID get() {
      long n = next++;
      return new UUID(n << 32, n);
    }
  }
}
