package org.contextvars4j.slf4j;

import org.jspecify.annotations.Nullable;

/** One deque of {@code MDC.pushByKey}: an immutable linked stack, shared by every context copy. */
final class KeyStack {
  private final String top;
  private final @Nullable KeyStack below;
  private final int depth;

  private KeyStack(String top, @Nullable KeyStack below) {
    this.top = top;
    this.below = below;
    this.depth = below == null ? 1 : below.depth + 1;
  }

  /** {@return a stack with {@code value} on top of {@code stack}, which may be empty ({@code null})} */
  static KeyStack push(@Nullable KeyStack stack, String value) {
    return new KeyStack(value, stack);
  }

  String top() {
    return top;
  }

  /** {@return the rest of the stack, or {@code null} when this was its last value} */
  @Nullable KeyStack below() {
    return below;
  }

  int depth() {
    return depth;
  }
}
