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
 * ContextVar} seen from async web frameworks), in the post's order, then shows Java's own traps
 * (executors, scheduled tasks, {@code CompletableFuture}, virtual threads, one context shared by
 * tasks), each next to its fix with {@code org.contextvars4j.concurrent}.
 *
 * <p>For each scenario it prints a header, what the Python code showed (or, after the post's
 * scenarios, what Python and asyncio do), the values the Java code observes (uuids shortened to 8
 * hex digits), and verdicts computed from those values. A verdict that differs from the expected
 * answer (the post's, or the one the library's contract gives) is flagged in the output, and the
 * last line counts them.
 *
 * <ol>
 *   <li>Functions called from {@code outer()} see {@code outer}'s value.
 *   <li>A set inside a called function is seen by what runs after it.
 *   <li>{@code copy.run(nested)} isolates a synchronous call.
 *   <li>The pitfall: work created inside a copy but run outside it leaks its sets; work handed to
 *       other threads loses the value; a pooled thread's thread-locals leak between requests.
 *   <li>The fix: bind a context to each unit of work when it is created, and run the work in it.
 *   <li>Executors: a plain pool loses the submitter's value and leaks one request's value to the
 *       next; {@code ContextExecutors.wrap}, also for periodic tasks.
 *   <li>{@code CompletableFuture}: a stage runs in whatever context its thread has; {@code
 *       ContextFutures}.
 *   <li>Virtual threads start in an empty context; {@code ContextThreads}, {@code
 *       ContextExecutors.newVirtualThreadPerTaskExecutor()}.
 *   <li>One {@code Context} object for a task ({@code ctx.wrap}) or a copy per task.
 * </ol>
 *
 * <p>Run it with {@code bin/demo walkthrough}. It takes well under a second, and shuts down every thread it
 * starts.
 *
 * @since 0.1
 */
public final class Walkthrough {

  /** The post's scenarios, in its order, then Java's own traps and their fixes. */
  static final List<Scenario> SCENARIOS =
      List.of(
          new Scenario1SameValue(),
          new Scenario2SetIsSeenLater(),
          new Scenario3CopyIsolates(),
          new Scenario4Pitfall(),
          new Scenario5Fix(),
          new Scenario6Executors(),
          new Scenario7Futures(),
          new Scenario8VirtualThreads(),
          new Scenario9SameContextOrCopies());

  /** The line printed before the first scenario that is not the post's. */
  static final String BEYOND_THE_POST =
      "-- beyond the post: Java's own traps, each next to its fix with"
          + " org.contextvars4j.concurrent";

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
    demo.line(
        "contextvars4j walkthrough: the blog post's scenarios, replayed in Java, then Java's own"
            + " traps");
    demo.line(
        "ctx = ContextVar.named(\"test_context\", UUID.randomUUID()): default "
            + Demo.brief(demo.ctx.get()));
    demo.line("uuids show their first 8 hex digits; verdicts compare whole uuids");

    List<Scenario.Outcome> outcomes = new ArrayList<>();
    int verdicts = 0;
    int asExpected = 0;
    boolean inThePost = true;
    for (Scenario scenario : SCENARIOS) {
      if (inThePost && !scenario.fromThePost()) {
        inThePost = false;
        demo.line("");
        demo.line(BEYOND_THE_POST);
      }
      Scenario.Outcome outcome = play(scenario, demo);
      outcomes.add(outcome);
      for (Verdict verdict : outcome.verdicts()) {
        verdicts++;
        asExpected += verdict.asExpected() ? 1 : 0;
      }
    }
    demo.line("");
    demo.line(
        String.format(
            "%d of %d verdicts as expected: %s",
            asExpected, verdicts, asExpected == verdicts ? "yes" : "NO"));
    return List.copyOf(outcomes);
  }

  /**
   * Plays one scenario in a fresh, empty context, after printing its header; the scenario prints
   * its values and verdicts.
   *
   * <p>Each of the post's examples was its own {@code asyncio.run(main())}, so each starts here
   * from an empty context: one scenario's sets (including the leaks of scenario 4 and of the
   * pitfalls after it, which are the point of them) cannot colour the next, and the caller's
   * context is left exactly as it was.
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
    demo.labelled(
        scenario.fromThePost() ? "Python showed: " : "Python does:   ", scenario.python());
    demo.labelled("In Java:       ", scenario.java());
    return new Context().call(() -> scenario.play(demo));
  }
}
