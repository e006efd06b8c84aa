package org.contextvars4j.micrometer;

import io.micrometer.context.ThreadLocalAccessor;
import java.util.ArrayDeque;
import java.util.Objects;
import org.contextvars4j.Context;

/**
 * A Micrometer context-propagation {@link ThreadLocalAccessor} whose one value is the whole
 * current {@link Context}: every {@link org.contextvars4j.ContextVar} (and the MDC and
 * OpenTelemetry's context, with those modules) crosses a Reactor or Spring hop as one pointer,
 * whatever the number of variables, where an accessor per thread-local reads, writes and restores
 * each of them.
 *
 * <h2>Activation</h2>
 *
 * The dependency alone: the module registers this class for context-propagation's service lookup
 * ({@code META-INF/services} and the module's {@code provides}), so {@code
 * ContextRegistry.getInstance()} finds it, and with it Reactor's automatic mode ({@code
 * Hooks.enableAutomaticContextPropagation()}) and Spring's {@code ContextPropagatingTaskDecorator}.
 * Its key is {@value #KEY}.
 *
 * <h2>Behaviour</h2>
 *
 * <ul>
 *   <li>{@link #getValue()} is {@link Context#copyCurrent()}: an O(1) snapshot, never {@code null}.
 *   <li>{@link #setValue(Context)} makes a copy of the given context current on the calling thread
 *       (so that two threads restoring one snapshot never share a context, and what the code
 *       sets there never reaches the snapshot); {@link #setValue()}, which Reactor calls where the
 *       key is missing, makes a new empty context current.
 *   <li>{@link #restore(Context)} and {@link #restore()} leave the context that the matching
 *       {@code setValue} entered: the thread is back in exactly the context it was in before,
 *       whatever was set since. Calls pair in reverse order, as context-propagation makes them.
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe and stateless but for a per-thread stack of the contexts it entered, which is empty
 * whenever every {@code setValue} has been restored.
 */
public final class ContextThreadLocalAccessor implements ThreadLocalAccessor<Context> {

  /** The accessor's key in context-propagation's registry and in Reactor's context. */
  public static final String KEY = "org.contextvars4j.Context";

  // The scopes of the contexts entered by setValue on this thread, innermost first. A ThreadLocal
  // rather than a ContextVar: a copy taken inside must not keep a scope (and its thread) alive.
  private static final ThreadLocal<ArrayDeque<Context.Scope>> ENTERED =
      ThreadLocal.withInitial(ArrayDeque::new);

  /** Creates the accessor; context-propagation's service lookup calls this. */
  public ContextThreadLocalAccessor() {}

  /** {@return {@value #KEY}} */
  @Override
  public Object key() {
    return KEY;
  }

  /** {@return a copy of the current context: {@link Context#copyCurrent()}} */
  @Override
  public Context getValue() {
    return Context.copyCurrent();
  }

  /**
   * Makes a copy of {@code value} current on the calling thread, until {@link #restore(Context)}.
   *
   * @param value the context to run in a copy of; not {@code null}
   * @throws NullPointerException if {@code value} is {@code null}
   */
  @Override
  public void setValue(Context value) {
    Objects.requireNonNull(value, "value");
    enter(value.copy());
  }

  /** Makes a new, empty context current on the calling thread, until {@link #restore()}. */
  @Override
  public void setValue() {
    enter(new Context());
  }

  private static void enter(Context context) {
    ArrayDeque<Context.Scope> entered = ENTERED.get();
    entered.push(context.enter());
  }

  /**
   * Leaves the context that the matching {@link #setValue(Context)} entered.
   *
   * @param previousValue what {@link #getValue()} returned before that call; the thread goes back
   *     to the context it was in then, which holds those values
   * @throws IllegalStateException if no context entered by this accessor is open on this thread,
   *     or a context entered after it is still open there; nothing is changed then
   */
  @Override
  public void restore(Context previousValue) {
    leave();
  }

  /**
   * Leaves the context that the matching {@link #setValue()} entered.
   *
   * @throws IllegalStateException if no context entered by this accessor is open on this thread,
   *     or a context entered after it is still open there; nothing is changed then
   */
  @Override
  public void restore() {
    leave();
  }

  private static void leave() {
    ArrayDeque<Context.Scope> entered = ENTERED.get();
    Context.Scope scope = entered.peek();
    if (scope == null) {
      throw new IllegalStateException(
          "No context entered by ContextThreadLocalAccessor.setValue is open on thread \""
              + Thread.currentThread().getName()
              + "\": restore each setValue once, on its thread, in reverse order");
    }
    // Forgotten only once it is closed: a close refused (a context entered since is still open)
    // leaves everything as it was, and the restore can be made again once that one is closed.
    scope.close();
    entered.pop();
  }
}
