package org.contextvars4j.examples;

/** Placeholder replaced by the walkthrough. */
public final class Walkthrough {
  private Walkthrough() {}

  /**
   * Runs the walkthrough.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    System.out.println("walkthrough");
  }
}
