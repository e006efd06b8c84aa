package org.contextvars4j.examples;

import java.util.List;
import java.util.UUID;

/**
 * Scenario 2: a set inside a called function is seen by what runs after it in the same context.
 *
 * <p>Python: as scenario 1, but {@code nested_1()} sets a new uuid before printing; {@code
 * nested_2()} then prints the new value. An awaited coroutine is not isolated: it runs in its
 * caller's task, and so in its caller's context. The Java equivalent is a plain call.
 */
final class Scenario2SetIsSeenLater implements Scenario {

  /**
   * What was printed.
   *
   * @param outer what {@code outer} printed before the calls
   * @param nested1 what {@code nested_1} printed, after its own set
   * @param nested2 what {@code nested_2} printed
   * @param outerAfter what {@code outer} sees after both calls returned
   */
  record Result(UUID outer, UUID nested1, UUID nested2, UUID outerAfter) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict("nested_1 prints a new value", !nested1.equals(outer), true),
          new Verdict("nested_2 prints nested_1's new value", nested2.equals(nested1), true),
          new Verdict(
              "outer sees the new value after the calls", outerAfter.equals(nested1), true));
    }
  }

  @Override
  public int number() {
    return 2;
  }

  @Override
  public String title() {
    return "a set inside a called function is seen by what runs after it";
  }

  @Override
  public String python() {
    return "nested_1() sets a new uuid before printing; nested_2() then prints the new value.";
  }

  @Override
  public String java() {
    return "nested1() calls ctx.set(UUID.randomUUID()); nested2() runs after it, same context";
  }

  @Override
  public Result play(Demo demo) {
    Result result = outer(demo);
    demo.verdicts(result);
    return result;
  }

  private Result outer(Demo demo) {
    if (!demo.ctx.isBound()) {
      demo.ctx.set(demo.newUuid());
    }
    UUID before = demo.ctx.get();
    demo.show("outer prints", before);
    UUID first = nested1(demo);
    UUID second = nested2(demo);
    UUID after = demo.ctx.get();
    demo.show("outer, after the calls, sees", after);
    return new Result(before, first, second, after);
  }

  private UUID nested1(Demo demo) {
    // No token kept and no reset: the post's nested function just sets, and that is the point.
    demo.ctx.set(demo.newUuid());
    UUID seen = demo.ctx.get();
    demo.show("nested_1 sets a new uuid, prints", seen);
    return seen;
  }

  private UUID nested2(Demo demo) {
    UUID seen = demo.ctx.get();
    demo.show("nested_2 prints", seen);
    return seen;
  }
}
