package org.contextvars4j.examples;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;
import org.contextvars4j.Context;

/**
 * Replays, in Java, every scenario of the blog post this project grew from (Python's {@code
 * ContextVar} seen from async web frameworks), in the post's order, and prints what each shows.
 *
 * <p>For each scenario it prints a header, what the Python code showed, the values the Java code
 * observes (uuids shortened to 8 hex digits), and verdicts computed from those values. A verdict
 * that differs from the post is flagged in the output, and the last line counts them.
 *
 * <ol>
 *   <li>Functions called from {@code outer()} see {@code outer}'s value.
 *   <li>A set inside a called function is seen by what runs after it.
 *   <li>{@code copy.run(nested)} isolates a synchronous call.
 *   <li>The pitfall: work created inside a copy but run outside it leaks its sets; work handed to
 *       other threads loses the value; a pooled thread's thread-locals leak between requests.
 *   <li>The fix: bind a context to each unit of work when it is created, and run the work in it.
 * </ol>
 *
 * <p>Run it with {@code bin/demo}. It takes well under a second, and shuts down every thread it
 * starts.
 *
 * @since 0.1
 */
public final class Walkthrough {

  /** The post's scenarios, in its order. */
  static final List<Scenario> SCENARIOS =
      List.of(
          new Scenario1SameValue(),
          new Scenario2SetIsSeenLater(),
          new Scenario3CopyIsolates(),
          new Scenario4Pitfall(),
          new Scenario5Fix());

  private Walkthrough() {}

  /**
   * Runs the walkthrough with random uuids, printing to standard output.
   *
   * @param args ignored
   * @throws Exception if a scenario fails unexpectedly (a bug, not a verdict)
   */
  public static void main(String[] args) throws Exception {
    run(System.out, UUID::randomUUID);
  }

  /**
   * Runs every scenario in order, printing to {@code out}.
   *
   * @param out where to print
   * @param uuids where new uuids come from
   * @return the outcome of each scenario, in order
   * @throws Exception if a scenario fails unexpectedly
   */
  static List<Scenario.Outcome> run(PrintStream out, Supplier<UUID> uuids) throws Exception {
    Demo demo = new Demo(out, uuids);
    demo.line("contextvars4j walkthrough: the blog post's scenarios, replayed in Java");
    demo.line(
        "ctx = ContextVar.named(\"test_context\", UUID.randomUUID()): default "
            + Demo.brief(demo.ctx.get()));
    demo.line("uuids show their first 8 hex digits; verdicts compare whole uuids");

    List<Scenario.Outcome> outcomes = new ArrayList<>();
    int verdicts = 0;
    int asInBlog = 0;
    for (Scenario scenario : SCENARIOS) {
      Scenario.Outcome outcome = play(scenario, demo);
      outcomes.add(outcome);
      for (Verdict verdict : outcome.verdicts()) {
        verdicts++;
        asInBlog += verdict.matchesBlog() ? 1 : 0;
      }
    }
    demo.line("");
    demo.line(
        String.format(
            "%d of %d verdicts as in the blog post: %s",
            asInBlog, verdicts, asInBlog == verdicts ? "yes" : "NO"));
    return List.copyOf(outcomes);
  }

  /**
   * Plays one scenario in a fresh, empty context, after printing its header; the scenario prints
   * its values and verdicts.
   *
   * <p>Each of the post's examples was its own {@code asyncio.run(main())}, so each starts here
   * from an empty context: one scenario's sets (including scenario 4's leak, which is the point of
   * it) cannot colour the next, and the caller's context is left exactly as it was.
   *
   * @param scenario the scenario
   * @param demo the variable, the uuid source and the printer
   * @return what the scenario observed
   * @throws Exception if the scenario fails unexpectedly
   */
  static Scenario.Outcome play(Scenario scenario, Demo demo) throws Exception {
    Objects.requireNonNull(scenario, "scenario");
    demo.line("");
    demo.line("== " + scenario.number() + ". " + scenario.title() + " ==");
    demo.labelled("Python showed: ", scenario.python());
    demo.labelled("In Java:       ", scenario.java());
    return new Context().call(() -> scenario.play(demo));
  }
}
