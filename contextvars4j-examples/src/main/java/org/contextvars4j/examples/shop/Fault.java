package org.contextvars4j.examples.shop;

import java.util.Locale;

/** A fault that the load generator asks orders to run into, in its {@code X-Fault} header. */
enum Fault {
  /** None: every step succeeds. */
  NONE,
  /** A stage of the {@code CompletableFuture} chain throws: orders answers 500. */
  THROW,
  /** A stage is too slow and the request times out (504); the stage ends later, on its own. */
  TIMEOUT,
  /** A running task is cancelled mid-flight and interrupted. */
  CANCEL,
  /** Tasks are handed to a full pool, whose caller-runs policy runs one on the request thread. */
  FULL;

  /** {@return the header's value} */
  String header() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * {@return the fault a header names}
   *
   * @param header the value of {@code X-Fault}; absent means {@link #NONE}
   * @throws IllegalArgumentException if it names no fault
   */
  static Fault of(String header) {
    try {
      return valueOf(header.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "X-Fault must be one of none, throw, timeout, cancel, full; was '" + header + "'", e);
    }
  }
}
