package org.contextvars4j.examples;

import java.util.List;
import java.util.UUID;

/**
 * Scenario 1: the outer function and the two functions it calls all see the same value.
 *
 * <p>Python: {@code outer()} reads {@code ctx} (setting a fresh uuid when empty), prints it, and
 * awaits {@code nested_1()} and {@code nested_2()}, which print it too. In Java the calls are plain
 * calls: they run on the same thread in the same current context, as the awaited coroutines run in
 * the same task.
 */
final class Scenario1SameValue implements Scenario {

  /**
   * What the three functions printed.
   *
   * @param outer what {@code outer} printed
   * @param nested1 what {@code nested_1} printed
   * @param nested2 what {@code nested_2} printed
   */
  record Result(UUID outer, UUID nested1, UUID nested2) implements Outcome {

    /** {@return whether all three printed the same value} */
    boolean sameInAllThree() {
      return outer.equals(nested1) && outer.equals(nested2);
    }

    @Override
    public List<Verdict> verdicts() {
      return List.of(new Verdict("same value in all three", sameInAllThree(), true));
    }
  }

  @Override
  public int number() {
    return 1;
  }

  @Override
  public String title() {
    return "functions called from outer() see outer's value";
  }

  @Override
  public String python() {
    return "outer() prints ctx.get(), then awaits nested_1() and nested_2(): all three print the"
        + " same uuid.";
  }

  @Override
  public String java() {
    return "outer() calls nested1() and nested2() on the same thread, in the same context";
  }

  @Override
  public Result play(Demo demo) {
    Result result = outer(demo);
    demo.verdicts(result);
    return result;
  }

  private Result outer(Demo demo) {
    // The post sets a fresh uuid when the var is "empty"; in Java that is "not bound here" (get()
    // alone would return the default, which is not a value of this run).
    if (!demo.ctx.isBound()) {
      demo.ctx.set(demo.newUuid());
    }
    UUID seen = demo.ctx.get();
    demo.show("outer prints", seen);
    return new Result(seen, nested1(demo), nested2(demo));
  }

  private UUID nested1(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("nested_1 prints", seen);
    return seen;
  }

  private UUID nested2(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("nested_2 prints", seen);
    return seen;
  }
}
