package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.contextvars4j.Context;

/**
 * Scenario 4, the pitfall: running the <em>creation</em> of work inside a copy does not run the
 * <em>work</em> inside it.
 *
 * <p>Python: {@code await copy_ctx.run(nested_async)} only creates the coroutine inside the copy;
 * the coroutine's body runs when it is awaited, in the caller's task and so in the caller's
 * context, and its set leaks to the caller and to the next call.
 *
 * <p>Java futures are eager: work done inside {@code copy.call(...)} does stay in the copy. The
 * Java form of the trap is a {@link CompletableFuture} created inside {@code copy.call(...)} whose
 * later stage is attached outside it: the stage's function runs in whatever context is current on
 * the thread that runs it, here the caller's. Two more Java traps follow, on threads that never had
 * the caller's context:
 *
 * <ul>
 *   <li>work handed to a plain executor, or to a virtual thread started here, does not see the
 *       caller's value, neither in a {@link ThreadLocal} nor in a {@code ContextVar};
 *   <li>a value set on a pooled thread, in a {@link ThreadLocal} or in the pool thread's own
 *       context, is still there for the next request that thread runs.
 * </ul>
 */
final class Scenario4Pitfall implements Scenario {

  /**
   * The request id in a plain thread-local, as pre-contextvars code keeps it. Package-private so
   * that a test can check that {@link #play} leaves the caller's thread clean.
   */
  final ThreadLocal<UUID> requestId = new ThreadLocal<>();

  /**
   * 4a: a future created inside {@code copy.call}, its stage attached outside.
   *
   * @param outer the value {@code outer} set
   * @param created the value the future carried: read inside the copy when it was created
   * @param stage what {@code nested}, run as the stage, observed
   * @param outerAfter {@code ctx.get()} in {@code outer} after the stage ran
   * @param nextCall what the next plain call saw
   * @param copyAfter {@code copy.get(ctx)} at the end
   */
  record FutureStage(
      UUID outer, UUID created, Nested stage, UUID outerAfter, UUID nextCall, UUID copyAfter)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("the future was created inside the copy", created.equals(outer), true),
          new Verdict("nested's set leaked to the caller", outerAfter.equals(stage.set()), true),
          new Verdict("nested's set leaked to the next call", nextCall.equals(stage.set()), true),
          new Verdict("the copy got nested's set", copyAfter.equals(stage.set()), false));
    }
  }

  /**
   * 4b: work on threads that never had the caller's context.
   *
   * @param submitter the value the submitting code set, in {@code ctx} and in the thread-local
   * @param pool what a task on a plain executor saw
   * @param virtual what a virtual thread started by the submitter saw
   */
  record LostValue(UUID submitter, Seen pool, Seen virtual) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "the pool task sees the submitter's ContextVar value",
              pool.sawBound(submitter),
              false),
          new Verdict(
              "the pool task sees the submitter's ThreadLocal value",
              submitter.equals(pool.threadLocal()),
              false),
          new Verdict(
              "the virtual thread sees the submitter's ContextVar value",
              virtual.sawBound(submitter),
              false),
          new Verdict(
              "the virtual thread sees the submitter's ThreadLocal value",
              submitter.equals(virtual.threadLocal()),
              false));
    }
  }

  /**
   * 4c: two requests, one after the other, on the same pooled thread.
   *
   * @param requestA the value request A set on the pooled thread, and never removed
   * @param threadA the thread request A ran on
   * @param requestB what request B, which set nothing, saw
   */
  record PooledLeak(UUID requestA, String threadA, Seen requestB) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "both requests ran on the same pooled thread",
              threadA.equals(requestB.thread()),
              true),
          new Verdict(
              "request B sees request A's ThreadLocal value",
              requestA.equals(requestB.threadLocal()),
              true),
          new Verdict(
              "request B sees request A's ContextVar value (pool thread's own context)",
              requestB.sawBound(requestA),
              true));
    }
  }

  /**
   * Everything scenario 4 observed.
   *
   * @param future part 4a
   * @param lost part 4b
   * @param leak part 4c
   */
  record Result(FutureStage future, LostValue lost, PooledLeak leak) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(future.verdicts());
      all.addAll(lost.verdicts());
      all.addAll(leak.verdicts());
      return List.copyOf(all);
    }
  }

  @Override
  public int number() {
    return 4;
  }

  @Override
  public String title() {
    return "the pitfall: work created inside a copy but run outside it";
  }

  @Override
  public String python() {
    return "await copy_ctx.run(nested_async) does NOT isolate: run() only creates the coroutine,"
        + " which runs in the caller's context when awaited; nested's new uuid leaks to the caller"
        + " and the next call.";
  }

  @Override
  public String java() {
    return "a CompletableFuture created inside copy.call(...), its stage attached outside;"
        + " then plain executors, virtual threads and pooled ThreadLocals";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    // One pool thread: it never had the caller's context, and 4c needs two requests on one thread.
    try (ExecutorService pool = Demo.newSingleThreadPool("pitfall")) {
      demo.line(
          "  4a. a CompletableFuture created inside copy.call(...), its stage attached outside");
      FutureStage future = futureStage(demo);
      demo.verdicts(future);
      demo.line("  4b. a plain executor and a virtual thread: the value is lost");
      LostValue lost = lostValue(demo, pool);
      demo.verdicts(lost);
      demo.line("  4c. two requests on one pooled thread: the value leaks");
      PooledLeak leak = pooledLeak(demo, pool);
      demo.verdicts(leak);
      return new Result(future, lost, leak);
    }
  }

  private FutureStage futureStage(Demo demo) {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);
    Context copy = Context.copyCurrent();

    // Python: copy_ctx.run(nested_async). This part does run in the copy, but it only creates
    // the work: a future (here already complete, carrying the value read in the copy).
    CompletableFuture<UUID> created =
        copy.call(() -> CompletableFuture.completedFuture(demo.ctx.get()));
    demo.show("future created in copy.call, holds", created.join());

    // Python: await <that coroutine>. The real work is a stage attached here, outside the copy.
    // The future is complete, so thenApply runs the function at once on this thread, in this
    // thread's current context: the caller's. Nothing ties the stage to `copy`.
    Nested stage = created.thenApply(ignored -> Nested.run(demo)).join();

    UUID after = demo.ctx.get();
    demo.show("outer, after the stage, sees", after);
    UUID next = nextCall(demo);
    UUID copyAfter = copy.get(demo.ctx);
    demo.show("copy.get(ctx) at the end", copyAfter);
    return new FutureStage(original, created.join(), stage, after, next, copyAfter);
  }

  private LostValue lostValue(Demo demo, ExecutorService pool) throws Exception {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    requestId.set(original);
    try {
      demo.show("submitter sets ctx and a ThreadLocal", original);
      // A plain task: the pool thread runs it in its own context, with its own thread-locals.
      Seen onPool = pool.submit(() -> Seen.now(demo.ctx, requestId)).get();
      demo.show("pool task: ctx.get()", onPool);
      demo.showThreadLocal("pool task: threadLocal.get()", onPool);

      // A new thread starts with an empty context: neither value reaches it.
      Seen[] onVirtual = new Seen[1];
      Thread virtual =
          Thread.ofVirtual()
              .name(Demo.THREAD_PREFIX + "virtual")
              .start(() -> onVirtual[0] = Seen.now(demo.ctx, requestId));
      virtual.join(); // join() makes the array write visible here
      demo.show("virtual thread: ctx.get()", onVirtual[0]);
      demo.showThreadLocal("virtual thread: threadLocal.get()", onVirtual[0]);
      return new LostValue(original, onPool, onVirtual[0]);
    } finally {
      // This thread-local lives on the caller's thread: leave that thread as it was found.
      requestId.remove();
    }
  }

  private PooledLeak pooledLeak(Demo demo, ExecutorService pool) throws Exception {
    UUID valueA = demo.newUuid();
    // Request A sets both on the pooled thread and, as handlers often do, never cleans up.
    String threadA =
        pool.submit(
                () -> {
                  requestId.set(valueA);
                  demo.ctx.set(valueA); // into the pool thread's own, never-exited context
                  return Thread.currentThread().getName();
                })
            .get();
    demo.show("request A sets ctx and ThreadLocal", valueA, "on " + threadA);
    // Request B sets nothing: whatever it sees was left behind by request A.
    Seen requestB = pool.submit(() -> Seen.now(demo.ctx, requestId)).get();
    demo.show("request B: ctx.get()", requestB);
    demo.showThreadLocal("request B: threadLocal.get()", requestB);
    return new PooledLeak(valueA, threadA, requestB);
  }

  private UUID nextCall(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("the next call prints", seen);
    return seen;
  }
}
