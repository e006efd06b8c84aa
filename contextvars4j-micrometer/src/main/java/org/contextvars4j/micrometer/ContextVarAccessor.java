package org.contextvars4j.micrometer;

import io.micrometer.context.ThreadLocalAccessor;
import java.util.ArrayDeque;
import java.util.Objects;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.jspecify.annotations.Nullable;

/**
 * A Micrometer context-propagation {@link ThreadLocalAccessor} for one {@link ContextVar} under a
 * key of its own, for Reactor-first code that puts values into Reactor's {@code Context} by key:
 *
 * {@snippet :
 * ContextRegistry.getInstance().registerThreadLocalAccessor(ContextVarAccessor.of("request_id", REQUEST_ID));
 *
 * mono.contextWrite(ctx -> ctx.put("request_id", id));   // REQUEST_ID.get() is id in the pipeline
 * }
 *
 * <p>Register it yourself (it is not found by the service lookup: the key and the variable are
 * yours). {@link ContextThreadLocalAccessor}, which the dependency registers, carries every
 * variable already; use this one only where a variable must also be a key of Reactor's context.
 *
 * <h2>Behaviour</h2>
 *
 * {@link #getValue()} is the variable's value in the current context, {@code null} where it is
 * unbound (Reactor then leaves the key out). {@link #setValue(Object)} sets the variable, and
 * {@link #restore(Object)} resets that set; {@link #setValue()} (the key is missing) leaves the
 * variable as the current context has it, and {@link #restore()} does nothing. A reset that finds
 * the set's context already left (another accessor restored it first) has nothing left to undo.
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe: its state is a per-thread stack of the sets it made, empty whenever every {@code
 * setValue} has been restored.
 *
 * @param <T> the type of the variable's values
 */
public final class ContextVarAccessor<T> implements ThreadLocalAccessor<T> {

  /** Marks a {@code setValue()} that set nothing, for its {@code restore()}. */
  private static final Object NOTHING_SET = new Object();

  private final Object key;
  private final ContextVar<T> var;
  private final ThreadLocal<ArrayDeque<Object>> made = ThreadLocal.withInitial(ArrayDeque::new);

  private ContextVarAccessor(Object key, ContextVar<T> var) {
    this.key = key;
    this.var = var;
  }

  /**
   * {@return an accessor for {@code var} under {@code key}}
   *
   * @param key the key in context-propagation's registry and in Reactor's context; not {@code
   *     null}, and not {@value ContextThreadLocalAccessor#KEY}
   * @param var the variable; not {@code null}
   * @param <T> the type of the variable's values
   * @throws NullPointerException if an argument is {@code null}
   * @throws IllegalArgumentException if {@code key} is the whole context's key
   */
  public static <T> ContextVarAccessor<T> of(Object key, ContextVar<T> var) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(var, "var");
    if (key.equals(ContextThreadLocalAccessor.KEY)) {
      throw new IllegalArgumentException(
          "key \"" + key + "\" is ContextThreadLocalAccessor's, which carries the whole context:"
              + " give the variable a key of its own");
    }
    return new ContextVarAccessor<>(key, var);
  }

  /** {@return the key given to {@link #of}} */
  @Override
  public Object key() {
    return key;
  }

  /** {@return the variable's value in the current context, or {@code null} where it is unbound} */
  @Override
  @SuppressWarnings("unchecked")
  public @Nullable T getValue() {
    // One lookup: the fallback wins over the variable's default, as unbound must read null.
    return ((ContextVar<@Nullable T>) (ContextVar<?>) var).getOrDefault(null);
  }

  /**
   * Sets the variable to {@code value} in the current context, until {@link #restore(Object)}.
   *
   * @param value the value
   */
  @Override
  public void setValue(T value) {
    made.get().push(var.set(value));
  }

  /** Leaves the variable as the current context has it, until {@link #restore()}. */
  @Override
  public void setValue() {
    made.get().push(NOTHING_SET);
  }

  /**
   * Resets the matching {@link #setValue(Object)}.
   *
   * @param previousValue the value before it; the reset restores it
   * @throws IllegalStateException if no {@code setValue} of this accessor is open on this thread
   */
  @Override
  public void restore(T previousValue) {
    undo();
  }

  /**
   * Ends the matching {@link #setValue()}, or resets the matching {@link #setValue(Object)}.
   *
   * @throws IllegalStateException if no {@code setValue} of this accessor is open on this thread
   */
  @Override
  public void restore() {
    undo();
  }

  @SuppressWarnings("unchecked")
  private void undo() {
    Object top = made.get().poll();
    if (top == null) {
      throw new IllegalStateException(
          "No setValue of the accessor of "
              + var
              + " is open on thread \""
              + Thread.currentThread().getName()
              + "\": restore each setValue once, on its thread, in reverse order");
    }
    if (top != NOTHING_SET) {
      Token<T> token = (Token<T>) top;
      try {
        var.reset(token);
      } catch (IllegalArgumentException leftAlready) {
        // The set's context is no longer current: leaving it undid the set.
      }
    }
  }

  /** {@return a description naming the key and the variable} */
  @Override
  public String toString() {
    return "ContextVarAccessor[key=" + key + ", var=" + var.name() + "]";
  }
}
