package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;

/**
 * Scenario 6: executors. A plain pool runs each task in its thread's own context: the task does not
 * see its submitter's value, and what it sets stays on the thread for the next request. {@link
 * ContextExecutors#wrap(ExecutorService)} runs each task in a copy of the submitter's context, and
 * {@link ContextExecutors#wrap(ScheduledExecutorService)} starts each run of a periodic task from
 * the values captured when it was scheduled.
 *
 * <p>Each request is handled in a fresh context of its own, as a server would give it; the plain
 * pool and its wrapped form share their one thread, so the fix runs on the very thread the pitfall
 * left its value on.
 */
final class Scenario6Executors implements Scenario {

  /** How many runs of each periodic task are recorded. */
  static final int RUNS = 3;

  /**
   * 6a and 6b: two requests, one after the other, their tasks on the same one-thread pool.
   *
   * @param wrapped whether the pool was wrapped by {@link ContextExecutors#wrap(ExecutorService)}
   * @param requestA the value request A's submitter set
   * @param taskA what request A's task saw, and the value it set and never removed
   * @param submitterAfter what request A's submitter saw after its task had finished
   * @param requestB what request B's task saw; request B set nothing
   */
  record Requests(boolean wrapped, UUID requestA, Work taskA, UUID submitterAfter, Seen requestB)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "request A's task sees its submitter's value",
              taskA.saw().sawBound(requestA),
              wrapped),
          new Verdict(
              "request A's submitter still sees its own value after the task",
              submitterAfter.equals(requestA),
              true),
          new Verdict(
              "both requests' tasks ran on the same pooled thread",
              taskA.saw().thread().equals(requestB.thread()),
              true),
          new Verdict(
              "request B's task sees the value request A's task set",
              requestB.sawBound(taskA.set()),
              !wrapped));
    }
  }

  /**
   * 6c and 6d: a periodic task, each run of which reads {@code ctx} and then sets a new value.
   *
   * @param wrapped whether the scheduler was wrapped by {@link
   *     ContextExecutors#wrap(ScheduledExecutorService)}
   * @param scheduler the value the scheduling code set
   * @param runs what the first {@link #RUNS} runs saw and set, in order
   * @param schedulerAfter what the scheduling code saw after the runs
   */
  record Periodic(boolean wrapped, UUID scheduler, List<Work> runs, UUID schedulerAfter)
      implements Outcome {

    /** {@return whether every run, after the first, saw the value the run before it set} */
    boolean eachRunSeesThePreviousRunsSet() {
      for (int i = 1; i < runs.size(); i++) {
        if (!runs.get(i).saw().sawBound(runs.get(i - 1).set())) {
          return false;
        }
      }
      return true;
    }

    /** {@return whether some run, after the first, saw the value the run before it set} */
    boolean someRunSeesThePreviousRunsSet() {
      for (int i = 1; i < runs.size(); i++) {
        if (runs.get(i).saw().sawBound(runs.get(i - 1).set())) {
          return true;
        }
      }
      return false;
    }

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "every run sees the scheduler's value",
              runs.stream().allMatch(run -> run.saw().sawBound(scheduler)),
              wrapped),
          new Verdict(
              "a run sees the previous run's set",
              wrapped ? someRunSeesThePreviousRunsSet() : eachRunSeesThePreviousRunsSet(),
              !wrapped),
          new Verdict(
              "the scheduling code still sees its own value",
              schedulerAfter.equals(scheduler),
              true));
    }
  }

  /**
   * Everything scenario 6 observed.
   *
   * @param plain part 6a
   * @param wrapped part 6b
   * @param plainPeriodic part 6c
   * @param wrappedPeriodic part 6d
   */
  record Result(
      Requests plain, Requests wrapped, Periodic plainPeriodic, Periodic wrappedPeriodic)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(plain.verdicts());
      all.addAll(wrapped.verdicts());
      all.addAll(plainPeriodic.verdicts());
      all.addAll(wrappedPeriodic.verdicts());
      return List.copyOf(all);
    }
  }

  @Override
  public int number() {
    return 6;
  }

  @Override
  public boolean fromThePost() {
    return false;
  }

  @Override
  public String title() {
    return "executors: a plain pool loses the value and leaks it to the next request";
  }

  @Override
  public String python() {
    return "ThreadPoolExecutor.submit(f) and loop.run_in_executor(None, f) run f in the worker"
        + " thread's own context: the caller's values are missing, and f's sets stay on the"
        + " worker for the next task. asyncio.to_thread(f) runs f in copy_context(), as"
        + " create_task copies; loop.call_later(delay, cb) runs cb in a copy taken when"
        + " scheduled.";
  }

  @Override
  public String java() {
    return "pool.submit(task) vs ContextExecutors.wrap(pool).submit(task);"
        + " scheduler.scheduleWithFixedDelay(task, ...) vs"
        + " ContextExecutors.wrap(scheduler).scheduleWithFixedDelay(task, ...)";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    Requests plain;
    Requests wrapped;
    try (ExecutorService pool = Demo.newSingleThreadPool("exec")) {
      demo.line("  6a. pool.submit(task): two requests, one pooled thread");
      plain = requests(demo, pool, false);
      demo.verdicts(plain);
      demo.line("  6b. ContextExecutors.wrap(pool).submit(task): the same pool, the same thread");
      // Closing the pool closes its wrapper: it has no state of its own.
      wrapped = requests(demo, ContextExecutors.wrap(pool), true);
      demo.verdicts(wrapped);
    }
    Periodic plainPeriodic;
    Periodic wrappedPeriodic;
    try (ScheduledExecutorService scheduler = Demo.newSingleThreadScheduler("sched")) {
      demo.line(
          "  6c. scheduler.scheduleWithFixedDelay(task, 0, 1, MILLISECONDS): " + RUNS + " runs");
      plainPeriodic = periodic(demo, scheduler, false);
      demo.verdicts(plainPeriodic);
      demo.line(
          "  6d. ContextExecutors.wrap(scheduler).scheduleWithFixedDelay(task, ...): "
              + RUNS
              + " runs");
      wrappedPeriodic = periodic(demo, ContextExecutors.wrap(scheduler), true);
      demo.verdicts(wrappedPeriodic);
    }
    return new Result(plain, wrapped, plainPeriodic, wrappedPeriodic);
  }

  private static Requests requests(Demo demo, ExecutorService pool, boolean wrapped)
      throws Exception {
    UUID valueA = demo.newUuid();
    UUID setByTaskA = demo.newUuid();
    Work[] taskA = new Work[1];
    UUID submitterAfter =
        new Context()
            .call(
                () -> {
                  demo.ctx.set(valueA);
                  demo.show("request A's submitter sets", valueA);
                  // The handler sets a value of its own and, as handlers often do, never resets it.
                  taskA[0] = pool.submit(() -> Work.run(demo.ctx, setByTaskA)).get();
                  taskA[0].show(demo, "request A's task");
                  UUID after = demo.ctx.get();
                  demo.show("request A's submitter, after, sees", after);
                  return after;
                });
    // Request B sets nothing: whatever its task sees was left behind by request A's task.
    Seen requestB =
        new Context().call(() -> pool.submit(() -> Seen.now(demo.ctx, null)).get());
    demo.show("request B's task sees", requestB);
    return new Requests(wrapped, valueA, taskA[0], submitterAfter, requestB);
  }

  private static Periodic periodic(
      Demo demo, ScheduledExecutorService scheduler, boolean wrapped) throws Exception {
    UUID value = demo.newUuid();
    List<UUID> toSet = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      toSet.add(demo.newUuid());
    }
    return new Context()
        .call(
            () -> {
              demo.ctx.set(value);
              demo.show("the scheduling code sets", value);
              List<Work> runs = runs(demo, scheduler, toSet);
              for (int i = 0; i < runs.size(); i++) {
                runs.get(i).show(demo, "run " + (i + 1));
              }
              UUID after = demo.ctx.get();
              demo.show("the scheduling code, after, sees", after);
              return new Periodic(wrapped, value, runs, after);
            });
  }

  /**
   * Schedules a periodic task that, in each of its first {@code toSet.size()} runs, records what it
   * sees and sets the next value of {@code toSet}; waits for those runs and cancels the task. Later
   * runs, which may start before the cancellation takes effect, do nothing.
   */
  private static List<Work> runs(
      Demo demo, ScheduledExecutorService scheduler, List<UUID> toSet) throws Exception {
    int wanted = toSet.size();
    Work[] runs = new Work[wanted];
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(wanted);
    ScheduledFuture<?> periodic =
        scheduler.scheduleWithFixedDelay(
            () -> {
              int run = next.getAndIncrement();
              if (run < wanted) {
                runs[run] = Work.run(demo.ctx, toSet.get(run));
                done.countDown(); // makes the array write visible to the awaiting thread
              }
            },
            0,
            1,
            TimeUnit.MILLISECONDS);
    try {
      if (!done.await(10, TimeUnit.SECONDS)) {
        throw new TimeoutException("the periodic task did not run " + wanted + " times");
      }
    } finally {
      periodic.cancel(false);
    }
    return List.of(runs);
  }
}
