package org.contextvars4j;

import java.util.Locale;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * The receipt of one {@link ContextVar#set}: it can undo exactly that set, once, in the context
 * where it was made. Python: {@code contextvars.Token}, including its use as a context manager.
 *
 * {@snippet lang = java :
 * try (var token = USER.set(user)) {
 *   handle(request);
 * } // USER is back to what it was before the set
 * }
 *
 * <h2>Misuse</h2>
 *
 * Using a token twice throws {@link IllegalStateException}; using it with another variable, or in
 * another {@link Context} than the one current at the set, throws {@link
 * IllegalArgumentException}. A failed use changes nothing, and does not use the token up.
 *
 * <h2>Thread safety</h2>
 *
 * A token may be read from any thread. It can only be used in the context where it was made, and
 * a context is current on at most one thread at a time, so it is used by one thread at a time.
 *
 * @param <T> the type of the variable's value
 * @since 0.1
 */
public final class Token<T extends @Nullable Object> implements AutoCloseable {

  /** Marks an old value not looked up yet: it is in {@link #oldBase}, looked up when asked for. */
  static final Object NOT_LOOKED_UP = new Object();

  /** The slot of a used token: no slot, and the mark of use. */
  private static final int USED = Integer.MIN_VALUE + 1;

  private final ContextVar<T> var;

  /*
   * Where the set was made: the thread and its state, the context of its frame (null: the
   * thread's base frame), and the slot and epoch of the overlay that it pushed (see ThreadState).
   * A reset on the same thread that finds the same epoch and slot on top is the undo of the
   * newest set: it clears the slot. The thread is there so that the reset knows the state is its
   * own with a compare, not a ThreadLocal lookup (one ThreadState per thread). The thread, the
   * state and the context are dropped once the token is used, so that a used token kept somewhere
   * does not keep them reachable. Being used is a slot value, not a field of its own: a field
   * more would make the token 56 bytes where it allocates.
   */
  @Nullable ThreadState state;
  @Nullable Thread thread;
  @Nullable Context context;
  // Plain: a token is used only by the thread on which its context is current.
  int slot;
  final long epoch;

  /** The previous value, {@link ContextVar#UNBOUND}, or {@link #NOT_LOOKED_UP}. */
  private @Nullable Object oldValue;

  /**
   * The base mapping of the frame at the set, while the old value is still to be looked up in it:
   * immutable, so the answer is the same whenever it is asked for. Dropped once looked up.
   */
  private @Nullable Vars oldBase;

  Token(
      ContextVar<T> var,
      ThreadState state,
      Thread thread,
      int slot,
      long epoch,
      @Nullable Object oldValue,
      @Nullable Vars oldBase) {
    // The frame's context is read here, not passed in: HotSpot inlines no method whose signature
    // names a class not loaded yet ("unloaded signature classes"), and a program that only sets
    // and reads in its threads' base frames never loads Context. Without this constructor
    // inlined, no set's token can be removed by escape analysis.
    this.var = var;
    this.state = state;
    this.thread = thread;
    this.context = state.context;
    this.slot = slot;
    this.epoch = epoch;
    this.oldValue = oldValue;
    this.oldBase = oldBase;
  }

  /** {@return the variable whose set made this token} */
  public ContextVar<T> var() {
    return var;
  }

  /** {@return whether the variable had a value in the context before the set} */
  public boolean hasOldValue() {
    return old() != ContextVar.UNBOUND;
  }

  /**
   * {@return the value the variable had in the context before the set}
   *
   * @throws NoSuchElementException if it had none ({@link #hasOldValue()} is {@code false})
   */
  @SuppressWarnings("unchecked")
  public T oldValue() {
    Object oldValue = old();
    if (oldValue == ContextVar.UNBOUND) {
      throw new NoSuchElementException(
          String.format(
              Locale.ROOT,
              "%s was not bound before this set, so there is no old value; check hasOldValue()"
                  + " first",
              var));
    }
    return (T) oldValue;
  }

  /** {@return whether this token was already used to reset its variable} */
  public boolean isUsed() {
    return slot == USED;
  }

  /**
   * Resets the variable to its value before the set: {@code var().reset(this)}, so that {@code
   * try (var t = VAR.set(x)) { ... }} restores the previous value.
   *
   * @throws IllegalStateException if the token was already used
   * @throws IllegalArgumentException if the current context is not the one where the set was made
   */
  @Override
  public void close() {
    var.reset(this);
  }

  /** {@return a description naming the variable and saying whether the token was used} */
  @Override
  public String toString() {
    return describe(var, slot == USED);
  }

  // Static, and given fields rather than the token: the token must not escape the reset, so that
  // the JIT can remove it when the set and the reset are compiled together.
  static String describe(ContextVar<?> var, boolean used) {
    return "Token[var=" + var.name() + (used ? ", used" : "") + "]";
  }

  /** The previous value, or {@link ContextVar#UNBOUND}; looked up in the old base once. */
  @Nullable Object old() {
    Object value = oldValue;
    if (value == NOT_LOOKED_UP) {
      Vars base = oldBase;
      assert base != null : "the old base is dropped only once the old value is known";
      value = oldValue = base.lookup(var);
      oldBase = null;
    }
    return value;
  }

  boolean used() {
    return slot == USED;
  }

  void markUsed() {
    slot = USED;
    state = null;
    thread = null;
    context = null;
  }
}
