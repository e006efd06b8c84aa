package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.contextvars4j.concurrent.ContextThreads;

/**
 * Scenario 5, the fix: bind a context to the unit of work when the work is created, and run every
 * piece of the work inside it, on whatever thread runs it.
 *
 * <p>Python: {@code await asyncio.create_task(nested_async(), context=copy_ctx)}. A task runs every
 * step of its coroutine in the context it was given (by default a copy of the caller's context,
 * taken when the task is created), so the set stays inside the task; the caller and the next call
 * see the original value.
 *
 * <p>Java: bind a {@link Context} to the task when the task is created, and run the task's body in
 * it on the thread that runs it.
 *
 * <ul>
 *   <li>{@code create_task(coro, context=copy_ctx)}, a task given an explicit context, is {@code
 *       pool.submit(copy.wrap(task))}: {@link Context#wrap(java.util.concurrent.Callable)} runs the
 *       task in that very {@code Context} object on the pool's thread, so its sets are recorded in
 *       {@code copy}.
 *   <li>{@code create_task(coro)}, whose task runs in a copy of the caller's context taken at
 *       creation, is {@code ContextExecutors.wrap(pool).submit(task)}.
 * </ul>
 *
 * <p>The same move, with the library's helpers, fixes the three traps of scenario 4: the future's
 * stage ({@link ContextFutures#wrap(CompletableFuture)}), the plain executor and the pooled thread
 * ({@link ContextExecutors#wrap(ExecutorService)}), and the virtual thread ({@link
 * ContextThreads#start}).
 */
final class Scenario5Fix implements Scenario {

  /**
   * 5a: {@code pool.submit(copy.wrap(nested))}, the {@code create_task(..., context=copy_ctx)}
   * analogue.
   *
   * @param outer the value {@code outer} set
   * @param task what {@code nested}, run as the task, observed
   * @param caller the name of the caller's thread
   * @param outerAfter {@code ctx.get()} in {@code outer} after the task finished
   * @param nextCall what the next plain call saw
   * @param copyAfter {@code copy.get(ctx)} at the end
   */
  record Task(
      UUID outer, Nested task, String caller, UUID outerAfter, UUID nextCall, UUID copyAfter)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("the task ran on another thread", !task.thread().equals(caller), true),
          new Verdict("the task first sees outer's value", task.saw().equals(outer), true),
          new Verdict(
              "outer still sees the original after the task", outerAfter.equals(outer), true),
          new Verdict("the next call sees the original", nextCall.equals(outer), true),
          new Verdict(
              "the set stayed inside the task's context (copy)",
              copyAfter.equals(task.set()),
              true));
    }
  }

  /**
   * 5b: {@code ContextExecutors.wrap(pool).submit(nested)}, the {@code create_task(coro)} analogue:
   * the task runs in a copy of the caller's context, taken when it was submitted.
   *
   * @param outer the value {@code outer} set
   * @param task what {@code nested}, run as the task, observed
   * @param caller the name of the caller's thread
   * @param outerAfter {@code ctx.get()} in {@code outer} after the task finished
   * @param nextCall what the next plain call saw
   * @param nextTask what a second task, submitted the same way after the first, saw
   */
  record DefaultCopy(
      UUID outer, Nested task, String caller, UUID outerAfter, UUID nextCall, Seen nextTask)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("the task ran on another thread", !task.thread().equals(caller), true),
          new Verdict("the task first sees outer's value", task.saw().equals(outer), true),
          new Verdict(
              "outer still sees the original after the task", outerAfter.equals(outer), true),
          new Verdict("the next call sees the original", nextCall.equals(outer), true),
          new Verdict(
              "a second task sees the original, not the first task's set",
              nextTask.sawBound(outer),
              true));
    }
  }

  /**
   * 5c: scenario 4a's future through {@link ContextFutures#wrap(CompletableFuture)}: its stage runs
   * in a copy of the context current where it was attached.
   *
   * @param outer the value {@code outer} set
   * @param stage what {@code nested}, run as the stage, observed
   * @param outerAfter {@code ctx.get()} in {@code outer} after the stage ran
   * @param nextCall what the next plain call saw
   */
  record BoundStage(UUID outer, Nested stage, UUID outerAfter, UUID nextCall) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("the stage first sees outer's value", stage.saw().equals(outer), true),
          new Verdict(
              "outer still sees the original after the stage", outerAfter.equals(outer), true),
          new Verdict("the next call sees the original", nextCall.equals(outer), true));
    }
  }

  /**
   * 5d: scenario 4b and 4c again, through {@link ContextExecutors#wrap(ExecutorService)} and {@link
   * ContextThreads#start}: every task runs in a copy of its submitter's context.
   *
   * @param requestA the value request A's submitter set
   * @param seenByA what request A's pool task saw before its own set
   * @param virtual what a virtual thread, started by {@code ContextThreads.start}, saw
   * @param requestB what request B's task, on the same pooled thread, saw
   */
  record BoundTasks(UUID requestA, Seen seenByA, Seen virtual, Seen requestB) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("the pool task sees the submitter's value", seenByA.sawBound(requestA), true),
          new Verdict(
              "the virtual thread sees the submitter's value", virtual.sawBound(requestA), true),
          new Verdict(
              "both requests ran on the same pooled thread",
              seenByA.thread().equals(requestB.thread()),
              true),
          new Verdict("request B sees a value left by request A", requestB.bound(), false));
    }
  }

  /**
   * Everything scenario 5 observed.
   *
   * @param task part 5a
   * @param defaultCopy part 5b
   * @param stage part 5c
   * @param tasks part 5d
   */
  record Result(Task task, DefaultCopy defaultCopy, BoundStage stage, BoundTasks tasks)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(task.verdicts());
      all.addAll(defaultCopy.verdicts());
      all.addAll(stage.verdicts());
      all.addAll(tasks.verdicts());
      return List.copyOf(all);
    }
  }

  @Override
  public int number() {
    return 5;
  }

  @Override
  public String title() {
    return "the fix: bind a context to the work when the work is created";
  }

  @Override
  public String python() {
    return "await asyncio.create_task(nested_async(), context=copy_ctx): the task runs in the"
        + " context it was given; the caller and the next call see the original value. Without"
        + " context=, the task runs in a copy of the caller's context, taken at creation.";
  }

  @Override
  public String java() {
    return "create_task(coro, context=copy_ctx) is pool.submit(copy.wrap(task)): the task runs in"
        + " that Context on the pool's thread; create_task(coro) is"
        + " ContextExecutors.wrap(pool).submit(task): it runs in a copy taken at submission";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    try (ExecutorService pool = Demo.newSingleThreadPool("fix")) {
      demo.line("  5a. pool.submit(copy.wrap(nested)): create_task(nested(), context=copy_ctx)");
      Task task = task(demo, pool);
      demo.verdicts(task);
      demo.line(
          "  5b. ContextExecutors.wrap(pool).submit(nested): create_task(nested()), a copy per"
              + " task");
      DefaultCopy defaultCopy = defaultCopy(demo, pool);
      demo.verdicts(defaultCopy);
      demo.line(
          "  5c. 4a's future through ContextFutures.wrap: its stage runs where it was attached");
      BoundStage stage = boundStage(demo);
      demo.verdicts(stage);
      demo.line("  5d. 4b and 4c again, through ContextExecutors.wrap and ContextThreads.start");
      BoundTasks tasks = boundTasks(demo, pool);
      demo.verdicts(tasks);
      return new Result(task, defaultCopy, stage, tasks);
    }
  }

  private Task task(Demo demo, ExecutorService pool) throws Exception {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);
    Context copy = Context.copyCurrent();
    // Python: await asyncio.create_task(nested_async(), context=copy_ctx). copy.wrap(...) runs the
    // task in that very Context object, on the pool's thread: its set is recorded in copy.
    Nested task = pool.submit(copy.wrap(() -> Nested.run(demo))).get();
    UUID after = demo.ctx.get();
    demo.show("outer, after the task, sees", after);
    UUID next = nextCall(demo);
    UUID copyAfter = copy.get(demo.ctx);
    demo.show("copy.get(ctx) at the end", copyAfter);
    return new Task(original, task, Demo.threadName(), after, next, copyAfter);
  }

  private DefaultCopy defaultCopy(Demo demo, ExecutorService pool) throws Exception {
    ExecutorService tasks = ContextExecutors.wrap(pool); // closed with pool
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);
    // Python: await asyncio.create_task(nested_async()): the task gets a copy of this context.
    Nested task = tasks.submit(() -> Nested.run(demo)).get();
    UUID after = demo.ctx.get();
    demo.show("outer, after the task, sees", after);
    UUID next = nextCall(demo);
    Seen nextTask = tasks.submit(() -> Seen.now(demo.ctx, null)).get();
    demo.show("a second task prints", nextTask);
    return new DefaultCopy(original, task, Demo.threadName(), after, next, nextTask);
  }

  private BoundStage boundStage(Demo demo) {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);
    Context copy = Context.copyCurrent();
    CompletableFuture<UUID> created =
        copy.call(() -> CompletableFuture.completedFuture(demo.ctx.get()));
    // The stage is the unit of work: ContextFutures.wrap makes every stage attached to the future
    // run in a copy of the context current where it is attached (asyncio: add_done_callback
    // copies the context at registration). Attached here, it runs in a copy of outer's context.
    Nested stage = ContextFutures.wrap(created).thenApply(ignored -> Nested.run(demo)).join();
    UUID after = demo.ctx.get();
    demo.show("outer, after the stage, sees", after);
    UUID next = nextCall(demo);
    return new BoundStage(original, stage, after, next);
  }

  private BoundTasks boundTasks(Demo demo, ExecutorService pool) throws Exception {
    UUID valueA = demo.newUuid();
    // Each request is handled in a fresh context of its own, as a server would give it.
    Seen seenByA = new Context().call(() -> requestA(demo, pool, valueA));
    Seen virtual = new Context().call(() -> virtualThread(demo, valueA));
    Seen requestB = new Context().call(() -> requestB(demo, pool));
    return new BoundTasks(valueA, seenByA, virtual, requestB);
  }

  /** Request A: sets a value and hands work to the pool; the work sets a value of its own. */
  private Seen requestA(Demo demo, ExecutorService pool, UUID value) throws Exception {
    demo.ctx.set(value);
    demo.show("request A's submitter sets", value);
    UUID own = demo.newUuid();
    // The task runs in a copy of this context, taken now, at submission.
    Seen seen =
        ContextExecutors.wrap(pool)
            .submit(
                () -> {
                  Seen before = Seen.now(demo.ctx, null);
                  // As in 4c, the handler sets and never cleans up: it sets its own copy.
                  demo.ctx.set(own);
                  return before;
                })
            .get();
    demo.show("request A's pool task: ctx.get()", seen);
    return seen;
  }

  /** A virtual thread whose body runs in a copy of its starter's context. */
  private Seen virtualThread(Demo demo, UUID value) throws InterruptedException {
    demo.ctx.set(value);
    Seen[] seen = new Seen[1];
    Thread virtual =
        ContextThreads.start(
            Thread.ofVirtual().name(Demo.THREAD_PREFIX + "virtual"),
            () -> seen[0] = Seen.now(demo.ctx, null));
    virtual.join(); // join() makes the array write visible here
    demo.show("virtual thread (ContextThreads.start)", seen[0]);
    return seen[0];
  }

  /** Request B: sets nothing; its task runs on the pooled thread request A's task ran on. */
  private Seen requestB(Demo demo, ExecutorService pool) throws Exception {
    Seen seen = ContextExecutors.wrap(pool).submit(() -> Seen.now(demo.ctx, null)).get();
    demo.show("request B's pool task: ctx.get()", seen);
    return seen;
  }

  private UUID nextCall(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("the next call prints", seen);
    return seen;
  }
}
