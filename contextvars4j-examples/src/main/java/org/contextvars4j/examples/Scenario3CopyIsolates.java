package org.contextvars4j.examples;

import java.util.List;
import java.util.UUID;
import org.contextvars4j.Context;

/**
 * Scenario 3: {@code copy.run(nested)} isolates a synchronous call.
 *
 * <p>Python: {@code outer()} sets a value, takes {@code copy_ctx = copy_context()}, reads {@code
 * copy_ctx[ctx]} and calls {@code copy_ctx.run(nested)}; {@code nested} prints the value, sets a
 * new uuid and prints that. Back outside, {@code ctx.get()} still shows the original, and a later
 * plain call sees the original too. Java: {@link Context#copyCurrent()}, {@link
 * Context#get(org.contextvars4j.ContextVar)} and {@link Context#run(Runnable)}; since {@code
 * nested} runs entirely inside {@code run}, its set is recorded in the copy and nowhere else.
 */
final class Scenario3CopyIsolates implements Scenario {

  /**
   * What was printed.
   *
   * @param outer the value {@code outer} set
   * @param inCopy {@code copy.get(ctx)} right after the copy
   * @param nestedSaw what {@code nested} printed before its set
   * @param nestedSet what {@code nested} set and printed
   * @param outerAfter {@code ctx.get()} in {@code outer} after {@code copy.run} returned
   * @param laterCall what a later plain call printed
   * @param copyAfter {@code copy.get(ctx)} at the end
   */
  record Result(
      UUID outer,
      UUID inCopy,
      UUID nestedSaw,
      UUID nestedSet,
      UUID outerAfter,
      UUID laterCall,
      UUID copyAfter)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("copy.get(ctx) is outer's value", inCopy.equals(outer), true),
          new Verdict(
              "nested, in the copy, first sees outer's value", nestedSaw.equals(outer), true),
          new Verdict(
              "outer still sees the original after copy.run", outerAfter.equals(outer), true),
          new Verdict("a later plain call sees the original", laterCall.equals(outer), true),
          new Verdict("the set stayed inside the copy", copyAfter.equals(nestedSet), true));
    }
  }

  @Override
  public int number() {
    return 3;
  }

  @Override
  public String title() {
    return "copy.run(nested) isolates a synchronous call";
  }

  @Override
  public String python() {
    return "copy_ctx[ctx] is outer's value; nested, run by copy_ctx.run(nested), prints it, sets a"
        + " new uuid and prints that; afterwards ctx.get() and a later call still show the"
        + " original.";
  }

  @Override
  public String java() {
    return "Context copy = Context.copyCurrent(); copy.get(ctx); copy.run(() -> nested())";
  }

  @Override
  public Result play(Demo demo) {
    UUID original = demo.newUuid();
    demo.ctx.set(original);
    demo.show("outer sets, prints", original);

    Context copy = Context.copyCurrent();
    UUID inCopy = copy.get(demo.ctx);
    demo.show("copy.get(ctx)", inCopy);

    // Holders for what nested observes: run() takes a Runnable, which returns nothing.
    UUID[] nested = new UUID[2];
    copy.run(
        () -> {
          nested[0] = demo.ctx.get();
          demo.show("nested (in copy) prints", nested[0]);
          demo.ctx.set(demo.newUuid());
          nested[1] = demo.ctx.get();
          demo.show("nested (in copy) sets, prints", nested[1]);
        });

    UUID after = demo.ctx.get();
    demo.show("outer, after copy.run, sees", after);
    UUID later = laterCall(demo);
    UUID copyAfter = copy.get(demo.ctx);
    demo.show("copy.get(ctx) at the end", copyAfter);
    Result result = new Result(original, inCopy, nested[0], nested[1], after, later, copyAfter);
    demo.verdicts(result);
    return result;
  }

  private UUID laterCall(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("a later plain call prints", seen);
    return seen;
  }
}
