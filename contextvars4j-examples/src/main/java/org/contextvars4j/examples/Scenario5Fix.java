package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import org.contextvars4j.Context;

/**
 * Scenario 5, the fix: bind a context to the unit of work when the work is created, and run every
 * piece of the work inside it, on whatever thread runs it.
 *
 * <p>Python: {@code await asyncio.create_task(nested_async(), context=copy_ctx)}. A task runs every
 * step of its coroutine in the context it was given (by default a copy of the caller's context,
 * taken when the task is created), so the set stays inside the task; the caller and the next call
 * see the original value.
 *
 * <p>Java, with the core API and {@code java.util.concurrent} only: capture a {@link Context} when
 * the task is created (the given one, or {@link Context#copyCurrent()}), and run the task's body
 * with {@link Context#call} on the thread that runs it. The same move fixes the three traps of
 * scenario 4: the future's stage, the plain executor, and the pooled thread.
 */
final class Scenario5Fix implements Scenario {

  /**
   * 5a: {@code createTask(pool, copy, nested)}, the {@code create_task(..., context=copy_ctx)}
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
   * 5b: scenario 4a's future, its stage now bound to a snapshot taken when it was attached.
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
   * 5c: scenario 4b and 4c again, every task bound to a snapshot of its submitter's context.
   *
   * @param requestA the value request A's submitter set
   * @param seenByA what request A's pool task saw before its own set
   * @param virtual what a virtual thread, started with request A's snapshot, saw
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
   * @param stage part 5b
   * @param tasks part 5c
   */
  record Result(Task task, BoundStage stage, BoundTasks tasks) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(task.verdicts());
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
        + " context it was given; the caller and the next call see the original value.";
  }

  @Override
  public String java() {
    return "capture a Context when the task is created; run the task's body with"
        + " context.call(...) on whatever thread runs it";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    try (ExecutorService pool = Demo.newSingleThreadPool("fix")) {
      demo.line("  5a. createTask(pool, copy, nested): create_task(..., context=copy_ctx)");
      Task task = task(demo, pool);
      demo.verdicts(task);
      demo.line("  5b. 4a's future, its stage bound to a snapshot taken when it was attached");
      BoundStage stage = boundStage(demo);
      demo.verdicts(stage);
      demo.line("  5c. 4b and 4c again, each task bound to its submitter's snapshot");
      BoundTasks tasks = boundTasks(demo, pool);
      demo.verdicts(tasks);
      return new Result(task, stage, tasks);
    }
  }

  /**
   * Java's {@code asyncio.create_task(coro, context=context)}: the task remembers {@code context}
   * from its creation and runs its whole body in it, on the executor's thread. Sets made by the
   * body are recorded in {@code context}, never in the caller's context or the pool thread's.
   *
   * @param executor where the task runs
   * @param context the context the task runs in, bound to the task now, at its creation
   * @param body the task's body
   * @param <T> the type of the result
   * @return the task's future, completed with what {@code body} returns
   */
  static <T> CompletableFuture<T> createTask(Executor executor, Context context, Supplier<T> body) {
    return CompletableFuture.supplyAsync(() -> context.call(body::get), executor);
  }

  private Task task(Demo demo, Executor pool) {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);
    Context copy = Context.copyCurrent();
    // Python: await asyncio.create_task(nested_async(), context=copy_ctx)
    Nested task = createTask(pool, copy, () -> Nested.run(demo)).join();
    UUID after = demo.ctx.get();
    demo.show("outer, after the task, sees", after);
    UUID next = nextCall(demo);
    UUID copyAfter = copy.get(demo.ctx);
    demo.show("copy.get(ctx) at the end", copyAfter);
    return new Task(original, task, Thread.currentThread().getName(), after, next, copyAfter);
  }

  private BoundStage boundStage(Demo demo) {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);
    Context copy = Context.copyCurrent();
    CompletableFuture<UUID> created =
        copy.call(() -> CompletableFuture.completedFuture(demo.ctx.get()));
    // The stage is the unit of work: capture the context when it is attached (asyncio's default,
    // a copy of the caller's context at task creation), and run its function inside it.
    Context snapshot = Context.copyCurrent();
    Nested stage = created.thenApply(ignored -> snapshot.call(() -> Nested.run(demo))).join();
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
    Context snapshot = Context.copyCurrent(); // captured when the task is created
    Seen seen =
        pool.submit(
                () ->
                    snapshot.call(
                        () -> {
                          Seen before = Seen.now(demo.ctx, null);
                          // As in 4c, the handler sets and never cleans up: it sets the snapshot.
                          demo.ctx.set(demo.newUuid());
                          return before;
                        }))
            .get();
    demo.show("request A's pool task: ctx.get()", seen);
    return seen;
  }

  /** A virtual thread whose body runs in a snapshot of its starter's context. */
  private Seen virtualThread(Demo demo, UUID value) throws InterruptedException {
    demo.ctx.set(value);
    Context snapshot = Context.copyCurrent();
    Seen[] seen = new Seen[1];
    Thread virtual =
        Thread.ofVirtual()
            .name(Demo.THREAD_PREFIX + "virtual")
            .start(() -> snapshot.run(() -> seen[0] = Seen.now(demo.ctx, null)));
    virtual.join(); // join() makes the array write visible here
    demo.show("virtual thread (snapshot.run)", seen[0]);
    return seen[0];
  }

  /** Request B: sets nothing; its task runs on the pooled thread request A's task ran on. */
  private Seen requestB(Demo demo, ExecutorService pool) throws Exception {
    Context snapshot = Context.copyCurrent();
    Seen seen = pool.submit(() -> snapshot.call(() -> Seen.now(demo.ctx, null))).get();
    demo.show("request B's pool task: ctx.get()", seen);
    return seen;
  }

  private UUID nextCall(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("the next call prints", seen);
    return seen;
  }
}
