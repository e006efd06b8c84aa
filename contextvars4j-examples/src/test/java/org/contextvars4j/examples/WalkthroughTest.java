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
 * to 3 and 5 share or isolate as described, scenario 4 shows the leak (and the lost values).
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

  /* ---- the whole walkthrough ---- */

  @Test
  void run_printsEveryScenarioInOrder_withTheVerdictsItReturns() throws Exception {
    List<Scenario.Outcome> outcomes = Walkthrough.run(out, new CountingUuids());

    assertThat(outcomes).hasSize(5);
    List<String> lines = printed().lines().toList();
    assertThat(
            lines.stream().filter(line -> line.startsWith("== ")).map(line -> line.substring(0, 5)))
        .containsExactly("== 1.", "== 2.", "== 3.", "== 4.", "== 5.");
    assertThat(lines.stream().filter(line -> line.startsWith("Python showed: "))).hasSize(5);
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
            "%d of %d verdicts as in the blog post: yes"
                .formatted(expectedVerdictLines.size(), expectedVerdictLines.size()));
    assertThat(lines).noneMatch(line -> line.length() > Demo.WIDTH);
  }

  @RepeatedTest(20)
  void run_withRandomUuids_everyVerdictIsAsInThePost() throws Exception {
    List<Scenario.Outcome> outcomes = Walkthrough.run(out, UUID::randomUUID);

    assertThat(outcomes.stream().flatMap(outcome -> outcome.verdicts().stream()))
        .hasSize(32)
        .allSatisfy(verdict -> assertThat(verdict.matchesBlog()).as(verdict.line()).isTrue());
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
