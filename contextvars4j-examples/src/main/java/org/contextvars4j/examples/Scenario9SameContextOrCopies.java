package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;

/**
 * Scenario 9, asyncio's distinction between a task given a context and a task given a copy.
 * {@code ctx.wrap(task)} runs the task in that very {@code Context} object, as {@code
 * create_task(coro, context=ctx)} does: its sets are seen in {@code ctx} afterwards, and by the
 * next task wrapped with {@code ctx}; a context runs on one thread at a time, so running two such
 * tasks at once fails with {@code already entered}. The executor wrappers of {@code
 * org.contextvars4j.concurrent} give each task its own copy, as {@code create_task(coro)} does:
 * tasks run at once, and none sees another's sets.
 */
final class Scenario9SameContextOrCopies implements Scenario {

  /** How long a task waits for the other, at most: it only ever waits for a task just started. */
  private static final long WAIT_SECONDS = 10;

  /**
   * 9a: two tasks wrapped with the same {@code ctx}, one after the other.
   *
   * @param caller the value the caller set before taking {@code ctx = Context.copyCurrent()}
   * @param first what the first task saw and set
   * @param second what the second task saw
   * @param inCtx {@code ctx.get(var)} after the tasks
   * @param callerAfter what the caller's own current context held after the tasks
   */
  record SameObject(UUID caller, Work first, Seen second, UUID inCtx, UUID callerAfter)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("the task sees ctx's value", first.saw().sawBound(caller), true),
          new Verdict(
              "ctx.get(var) shows the task's set afterwards", inCtx.equals(first.set()), true),
          new Verdict(
              "the next task wrapped with ctx sees the first task's set",
              second.sawBound(first.set()),
              true),
          new Verdict(
              "the caller's own context sees the task's set",
              callerAfter.equals(first.set()),
              false));
    }
  }

  /**
   * 9b: two tasks wrapped with the same {@code ctx}, at the same time on two threads.
   *
   * @param failure what running the second task threw, or {@code null} if it ran
   * @param firstCompleted whether the first task, which held {@code ctx} meanwhile, completed
   */
  record AtOnce(Throwable failure, boolean firstCompleted) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "the second task fails with IllegalStateException: already entered",
              failure instanceof IllegalStateException
                  && String.valueOf(failure.getMessage()).contains("already entered"),
              true),
          new Verdict("the first task completes", firstCompleted, true));
    }
  }

  /**
   * What one of two tasks running at the same time saw.
   *
   * @param saw what it saw on entry
   * @param set the value it set
   * @param afterBoth what it saw once both tasks had set their values
   */
  record Concurrent(Seen saw, UUID set, UUID afterBoth) {}

  /**
   * 9c: two tasks through {@link ContextExecutors#wrap(ExecutorService)}, at the same time.
   *
   * @param submitter the value the submitting code set
   * @param failure what running the tasks threw, or {@code null} if both ran
   * @param a what task a saw, or {@code null} if it failed
   * @param b what task b saw, or {@code null} if it failed
   * @param submitterAfter what the submitting code saw after both tasks
   */
  record Copies(
      UUID submitter,
      Throwable failure,
      Concurrent a,
      Concurrent b,
      UUID submitterAfter)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      boolean ran = failure == null && a != null && b != null;
      return List.of(
          new Verdict("both tasks run at the same time", ran, true),
          new Verdict(
              "each task first sees the submitter's value",
              ran && a.saw().sawBound(submitter) && b.saw().sawBound(submitter),
              true),
          new Verdict(
              "each task sees its own set after both set",
              ran && a.afterBoth().equals(a.set()) && b.afterBoth().equals(b.set()),
              true),
          new Verdict(
              "the submitter sees a task's set",
              ran && (submitterAfter.equals(a.set()) || submitterAfter.equals(b.set())),
              false));
    }
  }

  /**
   * Everything scenario 9 observed.
   *
   * @param sameObject part 9a
   * @param atOnce part 9b
   * @param copies part 9c
   */
  record Result(SameObject sameObject, AtOnce atOnce, Copies copies) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(sameObject.verdicts());
      all.addAll(atOnce.verdicts());
      all.addAll(copies.verdicts());
      return List.copyOf(all);
    }
  }

  @Override
  public int number() {
    return 9;
  }

  @Override
  public boolean fromThePost() {
    return false;
  }

  @Override
  public String title() {
    return "one Context object for a task, or a copy per task";
  }

  @Override
  public String python() {
    return "create_task(coro, context=ctx) runs every step in that very Context: its sets are seen"
        + " in ctx afterwards. A Context is entered by one run at a time: ctx.run(f) while ctx is"
        + " entered (nested, or on another thread) raises RuntimeError: cannot enter context: ..."
        + " is already entered. create_task(coro) gives each task its own copy.";
  }

  @Override
  public String java() {
    return "pool.submit(ctx.wrap(task)) runs in ctx itself;"
        + " ContextExecutors.wrap(pool).submit(task) runs in a copy per task";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    // Each part has a new pool of two threads: 9b and 9c run two tasks at the same time, and in a
    // new pool the first task always gets thread 1 and the second thread 2 (a pool below its size
    // starts a thread for each task), so the output names the same threads on every run.
    demo.line("  9a. pool.submit(ctx.wrap(task)), twice, one after the other");
    SameObject sameObject;
    try (ExecutorService pool = Demo.newFixedPool("same", 2)) {
      sameObject = new Context().call(() -> sameObject(demo, pool));
    }
    demo.verdicts(sameObject);
    demo.line("  9b. pool.submit(ctx.wrap(task)), twice, at the same time");
    AtOnce atOnce;
    try (ExecutorService pool = Demo.newFixedPool("once", 2)) {
      atOnce = new Context().call(() -> atOnce(demo, pool));
    }
    demo.verdicts(atOnce);
    demo.line("  9c. ContextExecutors.wrap(pool).submit(task), twice, at the same time");
    Copies copies;
    try (ExecutorService pool = Demo.newFixedPool("copy", 2)) {
      copies = new Context().call(() -> copies(demo, pool));
    }
    demo.verdicts(copies);
    return new Result(sameObject, atOnce, copies);
  }

  private static SameObject sameObject(Demo demo, ExecutorService pool) throws Exception {
    UUID caller = demo.newUuid();
    UUID setByFirst = demo.newUuid();
    demo.ctx.set(caller);
    demo.show("the caller sets", caller);
    Context ctx = Context.copyCurrent();
    Work first = pool.submit(ctx.wrap(() -> Work.run(demo.ctx, setByFirst))).get();
    first.show(demo, "the first task");
    Seen second = pool.submit(ctx.wrap(() -> Seen.now(demo.ctx, null))).get();
    demo.show("the second task sees", second);
    UUID inCtx = ctx.get(demo.ctx);
    demo.show("ctx.get(var) afterwards", inCtx);
    UUID callerAfter = demo.ctx.get();
    demo.show("the caller, after, sees", callerAfter);
    return new SameObject(caller, first, second, inCtx, callerAfter);
  }

  private static AtOnce atOnce(Demo demo, ExecutorService pool) throws Exception {
    UUID caller = demo.newUuid();
    demo.ctx.set(caller);
    demo.show("the caller sets", caller);
    Context ctx = Context.copyCurrent();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // The first task enters ctx and holds it until the second has been tried.
    Future<Seen> first =
        pool.submit(
            ctx.wrap(
                () -> {
                  entered.countDown();
                  if (!release.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    throw new TimeoutException("not released");
                  }
                  return Seen.now(demo.ctx, null);
                }));
    Throwable failure = null;
    try {
      if (!entered.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new TimeoutException("the first task did not start");
      }
      // The pool's other thread: the two tasks would run at the same time.
      Seen second = pool.submit(ctx.wrap(() -> Seen.now(demo.ctx, null))).get();
      demo.show("the second task ran, sees", second);
    } catch (ExecutionException e) {
      failure = e.getCause();
      demo.labelled("    the second task threw:  ", String.valueOf(failure));
    } finally {
      release.countDown();
    }
    Seen seenByFirst = first.get();
    demo.show("the first task, meanwhile, sees", seenByFirst);
    return new AtOnce(failure, seenByFirst.sawBound(caller));
  }

  private static Copies copies(Demo demo, ExecutorService pool) throws Exception {
    UUID submitter = demo.newUuid();
    UUID setByA = demo.newUuid();
    UUID setByB = demo.newUuid();
    demo.ctx.set(submitter);
    demo.show("the submitter sets", submitter);
    ExecutorService tasks = ContextExecutors.wrap(pool); // closed with pool
    // Both tasks set, then wait for each other, then read: each must see its own set.
    CyclicBarrier bothSet = new CyclicBarrier(2);
    Future<Concurrent> a = tasks.submit(() -> concurrently(demo, setByA, bothSet));
    Future<Concurrent> b = tasks.submit(() -> concurrently(demo, setByB, bothSet));
    Throwable failure = null;
    Concurrent seenByA = null;
    Concurrent seenByB = null;
    try {
      seenByA = a.get();
      seenByB = b.get();
      show(demo, "task a", seenByA);
      show(demo, "task b", seenByB);
    } catch (ExecutionException e) {
      failure = e.getCause();
      demo.labelled("    a task threw:  ", String.valueOf(failure));
    }
    UUID after = demo.ctx.get();
    demo.show("the submitter, after, sees", after);
    return new Copies(submitter, failure, seenByA, seenByB, after);
  }

  private static Concurrent concurrently(Demo demo, UUID value, CyclicBarrier bothSet)
      throws Exception {
    Seen saw = Seen.now(demo.ctx, null);
    demo.ctx.set(value);
    bothSet.await(WAIT_SECONDS, TimeUnit.SECONDS);
    return new Concurrent(saw, value, demo.ctx.get());
  }

  private static void show(Demo demo, String who, Concurrent seen) {
    demo.show(who + " sees", seen.saw());
    demo.show(who + " sets", seen.set());
    demo.show(who + ", after both set, sees", seen.afterBoth());
  }
}
