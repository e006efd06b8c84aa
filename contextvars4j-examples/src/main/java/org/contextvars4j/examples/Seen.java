package org.contextvars4j.examples;

import java.util.UUID;
import org.contextvars4j.ContextVar;

/**
 * What a piece of work saw of the request id when it ran: on which thread, whether the variable was
 * bound in that thread's current context, and the value {@link ContextVar#get()} returned (the
 * variable's default when not bound).
 *
 * @param thread the name of the thread the work ran on
 * @param bound whether {@code ctx} was bound in the current context
 * @param value what {@code ctx.get()} returned
 * @param threadLocal what the plain {@link ThreadLocal} held there; {@code null} when it was empty
 *     or not looked at
 */
record Seen(String thread, boolean bound, UUID value, UUID threadLocal) {

  /**
   * Records what the calling thread sees now.
   *
   * @param ctx the context variable to read
   * @param threadLocal the thread-local to read, or {@code null} to skip it
   * @return what is seen
   */
  static Seen now(ContextVar<UUID> ctx, ThreadLocal<UUID> threadLocal) {
    return new Seen(
        Demo.threadName(),
        ctx.isBound(),
        ctx.get(),
        threadLocal == null ? null : threadLocal.get());
  }

  /**
   * {@return whether this work saw exactly {@code expected} as a bound value}
   *
   * @param expected the value the work should have seen
   */
  boolean sawBound(UUID expected) {
    return bound && value.equals(expected);
  }
}
