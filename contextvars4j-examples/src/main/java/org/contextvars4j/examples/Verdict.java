package org.contextvars4j.examples;

/**
 * One claim a scenario checks: whether it held in this run (computed from the values the run
 * produced, never written down in advance) and what the blog post says about it.
 *
 * <p>Keeping the blog's answer next to the computed one lets the walkthrough flag, in its own
 * output, any scenario that stops behaving as the post describes.
 *
 * @param claim the claim, phrased as a yes/no question without the question mark
 * @param holds whether the claim held in this run
 * @param blogSays the answer the blog post gives (for Java-only traps: the answer the trap implies)
 */
record Verdict(String claim, boolean holds, boolean blogSays) {

  /** {@return whether this run agrees with the blog post} */
  boolean matchesBlog() {
    return holds == blogSays;
  }

  /** {@return the printed form, e.g. {@code same value in all three: yes}} */
  String line() {
    String line = claim + ": " + yesNo(holds);
    return matchesBlog()
        ? line
        : line + "   <-- differs from the blog post, which says " + yesNo(blogSays);
  }

  private static String yesNo(boolean answer) {
    return answer ? "yes" : "no";
  }
}
