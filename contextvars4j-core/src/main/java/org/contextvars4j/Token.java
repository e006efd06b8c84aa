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

  /** Marks an old value not looked up yet: a set does no lookup, most tokens never need it. */
  private static final Object NOT_LOOKED_UP = new Object();

  private final ContextVar<T> var;
  private final Context context;

  /*
   * The mappings just before and just after the set. When the current mapping is still `after`,
   * nothing has been set since, and the reset is `before` itself: O(1), no trie update. `after` is
   * dropped once the token is used, so that a used token still held does not keep the value it
   * set alive; `before` is kept only while the old value may still have to be looked up in it.
   */
  private @Nullable Vars before;
  private @Nullable Vars after;

  /** The previous value, {@link ContextVar#UNBOUND}, or {@link #NOT_LOOKED_UP}. */
  private @Nullable Object oldValue = NOT_LOOKED_UP;

  // Plain: a token is used only by the thread on which its context is current.
  private boolean used;

  Token(ContextVar<T> var, Context context, Vars before, Vars after) {
    this.var = var;
    this.context = context;
    this.before = before;
    this.after = after;
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
    return used;
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
    return "Token[var=" + var.name() + (used ? ", used" : "") + "]";
  }

  Context context() {
    return context;
  }

  /** The previous value, or {@link ContextVar#UNBOUND}; looked up in {@code before} once. */
  private @Nullable Object old() {
    Object value = oldValue;
    if (value == NOT_LOOKED_UP) {
      Vars beforeSet = before;
      assert beforeSet != null : "before is dropped only once the old value is known";
      value = oldValue = beforeSet.lookup(var);
      if (used) {
        before = null;
      }
    }
    return value;
  }

  /** The checks that come before the context check, in CPython's order. */
  void checkUsable(ContextVar<?> resetting) {
    if (used) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "%s has already been used; a token resets its variable once: set() again to get"
                  + " a new token",
              this));
    }
    if (resetting != var) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "%s was created by another variable than %s; reset a token with the variable whose"
                  + " set() returned it",
              this,
              resetting));
    }
  }

  /** Returns the mapping {@code current} with this set undone, and uses this token up. */
  Vars restore(Vars current) {
    Vars restored;
    Vars beforeSet = before;
    if (current == after && beforeSet != null) {
      // Nothing set since: the mapping before the set is the answer, and it is current again, so
      // keeping it for a later oldValue() keeps nothing alive that the context does not.
      restored = beforeSet;
    } else {
      Object previous = old();
      restored = previous == ContextVar.UNBOUND ? current.without(var) : current.with(var, previous);
    }
    used = true;
    after = null;
    if (oldValue != NOT_LOOKED_UP) {
      before = null;
    }
    return restored;
  }
}
