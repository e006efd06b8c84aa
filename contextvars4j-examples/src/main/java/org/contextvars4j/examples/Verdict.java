package org.contextvars4j.examples;

/**
 * One claim a scenario checks: whether it held in this run (computed from the values the run
 * produced, never written down in advance) and the answer expected.
 *
 * <p>Keeping the expected answer next to the computed one lets the walkthrough flag, in its own
 * output, any scenario that stops behaving as described.
 *
 * @param claim the claim, phrased as a yes/no question without the question mark
 * @param holds whether the claim held in this run
 * @param expected the answer expected: the blog post's for its scenarios (1 to 5); for Java's own
 *     traps, the answer the trap implies; for the library's fixes, the answer its contract gives
 */
record Verdict(String claim, boolean holds, boolean expected) {

  /** {@return whether this run gives the expected answer} */
  boolean asExpected() {
    return holds == expected;
  }

  /** {@return the printed form, e.g. {@code same value in all three: yes}} */
  String line() {
    String line = claim + ": " + yesNo(holds);
    return asExpected() ? line : line + "   <-- UNEXPECTED: expected " + yesNo(expected);
  }

  private static String yesNo(boolean answer) {
    return answer ? "yes" : "no";
  }
}
