package org.contextvars4j.examples;

import java.util.List;

/**
 * One scenario of the blog post, replayed in Java.
 *
 * <p>{@link #play} runs the scenario in the current context, prints the values it observes and the
 * verdicts computed from them, and returns them. The {@link Walkthrough} prints the header and the
 * Python side, and runs each scenario in a fresh context.
 */
interface Scenario {

  /** {@return the scenario's number in the blog post, from 1} */
  int number();

  /** {@return a one-line title} */
  String title();

  /** {@return what the blog post's Python code showed, in one or two sentences} */
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
