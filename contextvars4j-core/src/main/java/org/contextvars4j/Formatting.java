package org.contextvars4j;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code toString} of values we do not control, for our own {@code toString} methods, which must
 * never throw: a value's {@code toString} may throw, or lead back to the object being formatted.
 */
final class Formatting {

  /** Objects whose {@code toString} is running on this thread: breaks reference cycles. */
  private static final ThreadLocal<Set<Object>> IN_PROGRESS =
      ThreadLocal.withInitial(() -> Collections.newSetFromMap(new IdentityHashMap<>()));

  private Formatting() {}

  /**
   * Formats {@code value} on behalf of {@code owner}: {@code "..."} when {@code owner} is already
   * being formatted further up this thread's stack, a short note when the value's {@code toString}
   * throws, the value's {@code toString} (strings in quotes) otherwise.
   */
  static String value(Object owner, @Nullable Object value) {
    Set<Object> inProgress = IN_PROGRESS.get();
    if (!inProgress.add(owner)) {
      return "...";
    }
    try {
      return value instanceof CharSequence ? "\"" + value + "\"" : String.valueOf(value);
    } catch (Exception | StackOverflowError e) { // Exception: also a sneaky-thrown checked one
      return "<" + value.getClass().getName() + ".toString() threw " + e + ">";
    } finally {
      inProgress.remove(owner);
    }
  }
}
