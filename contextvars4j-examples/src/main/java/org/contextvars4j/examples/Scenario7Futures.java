package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextFutures;

/**
 * Scenario 7: {@link CompletableFuture}. A plain future's supplier runs in the pool thread's own
 * context, and a stage runs in whatever context is current on the thread that happens to run it:
 * the attaching thread's, when the future is already complete (so a stage attached outside {@code
 * copy.call(...)} sets into the caller's context), or the completing thread's (so the stage loses
 * the attacher's value and leaves its set on that thread). {@link ContextFutures} runs the supplier
 * in a copy of the caller's context, and every stage in a copy of the context current where the
 * stage was attached, whichever thread runs it.
 *
 * <p>Each part runs in a fresh context of its own, so that the pitfall's leak cannot colour the
 * fix; the pitfall and the fix run their futures on pools of their own for the same reason.
 */
final class Scenario7Futures implements Scenario {

  /**
   * 7a and 7b: a future created inside {@code copy.call(...)}, where a value of its own is set; a
   * stage attached outside, once the future is complete.
   *
   * @param library whether the future came from {@link ContextFutures#supplyAsync}
   * @param outer the value the caller set, outside the copy
   * @param inner the value set inside {@code copy.call(...)}, where the future was created
   * @param supplier what the future's supplier saw, on the pool
   * @param stage what the stage, attached outside the copy, saw and set
   * @param outerAfter what the caller saw after the stage
   */
  record AttachedOutside(
      boolean library, UUID outer, UUID inner, Seen supplier, Work stage, UUID outerAfter)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "the supplier sees the value where the future was created",
              supplier.sawBound(inner),
              library),
          new Verdict(
              "the stage sees the value where it was attached",
              stage.saw().sawBound(outer),
              true),
          new Verdict(
              "the stage's set leaked to the caller", outerAfter.equals(stage.set()), !library));
    }
  }

  /**
   * 7c and 7d: a stage attached to a pending future by a caller with a value set, the future then
   * completed by a task on another thread.
   *
   * @param library whether the stage was attached through {@link
   *     ContextFutures#wrap(CompletableFuture)}
   * @param attacher the value the attaching code set
   * @param completer the thread that completed the future
   * @param stage what the stage saw and set
   * @param attacherAfter what the attaching code saw after the stage
   * @param nextTask what the next plain task on the completing thread saw
   */
  record CompletedElsewhere(
      boolean library,
      UUID attacher,
      String completer,
      Work stage,
      UUID attacherAfter,
      Seen nextTask)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "the stage ran on the completing thread",
              stage.saw().thread().equals(completer),
              true),
          new Verdict(
              "the stage sees the value where it was attached",
              stage.saw().sawBound(attacher),
              library),
          new Verdict(
              "the attaching code still sees its own value", attacherAfter.equals(attacher), true),
          new Verdict(
              "the stage's set stayed on the completing thread for its next task",
              nextTask.sawBound(stage.set()),
              !library));
    }
  }

  /**
   * Everything scenario 7 observed.
   *
   * @param plainOutside part 7a
   * @param libraryOutside part 7b
   * @param plainElsewhere part 7c
   * @param libraryElsewhere part 7d
   */
  record Result(
      AttachedOutside plainOutside,
      AttachedOutside libraryOutside,
      CompletedElsewhere plainElsewhere,
      CompletedElsewhere libraryElsewhere)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(plainOutside.verdicts());
      all.addAll(libraryOutside.verdicts());
      all.addAll(plainElsewhere.verdicts());
      all.addAll(libraryElsewhere.verdicts());
      return List.copyOf(all);
    }
  }

  @Override
  public int number() {
    return 7;
  }

  @Override
  public boolean fromThePost() {
    return false;
  }

  @Override
  public String title() {
    return "CompletableFuture: a stage runs in whatever context its thread has";
  }

  @Override
  public String python() {
    return "an awaited coroutine runs in the awaiting task's context (scenario 4's leak);"
        + " fut.add_done_callback(cb) runs cb in a copy of the context current when cb was added"
        + " (or in context=ctx), whoever completes the future.";
  }

  @Override
  public String java() {
    return "CompletableFuture.supplyAsync(...) made inside copy.call(...), then .thenApply(...)"
        + " outside, vs ContextFutures.supplyAsync(...); a stage on a pending future completed by"
        + " another thread, vs ContextFutures.wrap(future).thenApply(...)";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    // The pitfall and the fix complete their futures on pools of their own: the pitfall leaves a
    // value on its pool's thread, which must not be mistaken for one left by the fix.
    try (ExecutorService plainPool = Demo.newSingleThreadPool("cfplain");
        ExecutorService fixPool = Demo.newSingleThreadPool("cffix")) {
      demo.line(
          "  7a. CompletableFuture.supplyAsync inside copy.call, .thenApply attached outside");
      AttachedOutside plainOutside =
          new Context().call(() -> attachedOutside(demo, plainPool, false));
      demo.verdicts(plainOutside);
      demo.line("  7b. ContextFutures.supplyAsync inside copy.call, .thenApply attached outside");
      AttachedOutside libraryOutside =
          new Context().call(() -> attachedOutside(demo, fixPool, true));
      demo.verdicts(libraryOutside);
      demo.line("  7c. .thenApply on a pending CompletableFuture, completed by a pool task");
      CompletedElsewhere plainElsewhere =
          new Context().call(() -> completedElsewhere(demo, plainPool, false));
      demo.verdicts(plainElsewhere);
      demo.line("  7d. ContextFutures.wrap(pending).thenApply, completed by a pool task");
      CompletedElsewhere libraryElsewhere =
          new Context().call(() -> completedElsewhere(demo, fixPool, true));
      demo.verdicts(libraryElsewhere);
      return new Result(plainOutside, libraryOutside, plainElsewhere, libraryElsewhere);
    }
  }

  private static AttachedOutside attachedOutside(Demo demo, ExecutorService pool, boolean library) {
    UUID outer = demo.newUuid();
    UUID inner = demo.newUuid();
    UUID setByStage = demo.newUuid();
    demo.ctx.set(outer);
    demo.show("the caller sets", outer);
    Context copy = Context.copyCurrent();
    CompletableFuture<Seen> created =
        copy.call(
            () -> {
              demo.ctx.set(inner);
              demo.show("inside copy.call, sets", inner);
              return library
                  ? ContextFutures.supplyAsync(() -> Seen.now(demo.ctx, null), pool)
                  : CompletableFuture.supplyAsync(() -> Seen.now(demo.ctx, null), pool);
            });
    Seen supplier = created.join();
    demo.show("the supplier sees", supplier);
    // Attached outside the copy, to a future that is complete: the stage runs at once, here.
    Work stage = created.thenApply(ignored -> Work.run(demo.ctx, setByStage)).join();
    stage.show(demo, "the stage");
    UUID after = demo.ctx.get();
    demo.show("the caller, after the stage, sees", after);
    return new AttachedOutside(library, outer, inner, supplier, stage, after);
  }

  private static CompletedElsewhere completedElsewhere(
      Demo demo, ExecutorService pool, boolean library) throws Exception {
    UUID attacher = demo.newUuid();
    UUID setByStage = demo.newUuid();
    demo.ctx.set(attacher);
    demo.show("the attaching code sets", attacher);
    CompletableFuture<UUID> pending = new CompletableFuture<>();
    // Attached here, while the future is pending: the stage runs when it completes, on the
    // completing thread. The value it sets is the value the future completes with.
    CompletableFuture<Work> stage =
        (library ? ContextFutures.wrap(pending) : pending)
            .thenApply(value -> Work.run(demo.ctx, value));
    String completer =
        pool.submit(
                () -> {
                  pending.complete(setByStage); // runs the stage, on this thread
                  return Demo.threadName();
                })
            .get();
    Work ran = stage.join();
    ran.show(demo, "the stage");
    UUID after = demo.ctx.get();
    demo.show("the attaching code, after, sees", after);
    Seen nextTask = pool.submit(() -> Seen.now(demo.ctx, null)).get();
    demo.show("the completer's next plain task sees", nextTask);
    return new CompletedElsewhere(library, attacher, completer, ran, after, nextTask);
  }
}
