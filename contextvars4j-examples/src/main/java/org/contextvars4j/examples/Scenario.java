package org.contextvars4j.examples;

import java.util.List;

/**
 * One scenario of the walkthrough: one of the blog post's, replayed in Java, or one of Java's own
 * traps next to its fix with {@code org.contextvars4j.concurrent}.
 *
 * <p>{@link #play} runs the scenario in the current context, prints the values it observes and the
 * verdicts computed from them, and returns them. The {@link Walkthrough} prints the header and the
 * Python side, and runs each scenario in a fresh context.
 */
interface Scenario {

  /** {@return the scenario's number in the walkthrough, from 1 (1 to 5 are the post's)} */
  int number();

  /**
   * {@return whether the scenario is one of the blog post's: then {@link #python} is what the
   * post's code showed; otherwise it is what Python and asyncio do in the same situation}
   */
  default boolean fromThePost() {
    return true;
  }

  /** {@return a one-line title} */
  String title();

  /**
   * {@return what the blog post's Python code showed, or (for the scenarios after the post's) what
   * Python and asyncio do, in one or two sentences}
   */
  String python();

  /** {@return the Java form of the scenario's key line, e.g. {@code copy.run(nested)}} */
  String java();

  /**
   * Runs the scenario in the current context, printing what it observes and, after each part, that
   * part's verdicts (with {@link Demo#verdicts}).
   *
   * @param demo the variable, the uuid source and the printer
   * @return the observed values, with the verdicts computed from them
   * @throws Exception if a task the scenario waits for fails or the wait is interrupted
   */
  Outcome play(Demo demo) throws Exception;

  /** The values one scenario observed. Each scenario returns its own record type. */
  interface Outcome {
    /** {@return the verdicts, computed from the observed values, in the order they are printed} */
    List<Verdict> verdicts();
  }
}
