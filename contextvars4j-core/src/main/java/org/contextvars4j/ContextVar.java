package org.contextvars4j;

import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A context variable: a key whose value lives in the current {@link Context}, not in the thread.
 * Python: {@code contextvars.ContextVar}.
 *
 * <p>Declare variables once, as constants, and read and set them anywhere:
 *
 * {@snippet lang = java :
 * static final ContextVar<String> REQUEST_ID = ContextVar.named("request_id");
 *
 * void handle(Request request) {
 *   try (var token = REQUEST_ID.set(request.id())) {   // bound until the token is closed
 *     service.process(request);                         // anything below sees REQUEST_ID.get()
 *   }                                                   // previous value restored here
 * }
 * }
 *
 * <h2>Values, defaults and absence</h2>
 *
 * {@link #set} binds a value (which may be {@code null}) in the current context and returns a
 * {@link Token} that undoes exactly that set. {@link #get()} returns the bound value, else the
 * variable's default, else throws {@link NoSuchElementException}. A variable created by {@link
 * #named(String)} has no default; {@link #named(String, Object)} gives one, and a {@code null}
 * default is a default, distinct from none.
 *
 * <h2>Identity</h2>
 *
 * Two variables are equal only if they are the same object, whatever their names: the name is for
 * people. Create variables once and keep them (typically in {@code static final} fields): a
 * variable created per request is a new key each time.
 *
 * <h2>Thread safety</h2>
 *
 * A {@code ContextVar} is thread-safe. Its value is per context: a thread sees the value bound in
 * its own current context and never another thread's sets, except through a {@link Context} handed
 * over on purpose.
 *
 * <p>Unless otherwise specified, passing a {@code null} argument to a method of this class causes
 * a {@link NullPointerException} to be thrown; values and defaults may be {@code null}.
 *
 * @apiNote Prefer {@code java.lang.ScopedValue} when a value is bound once for a bounded call tree on one
 *     thread and its structured subtasks; prefer {@link ThreadLocal} for per-thread caches that
 *     belong to the thread rather than to the work. A {@code ContextVar} is for request-scoped
 *     state that must follow work across threads, executors and futures, and that code deep in
 *     the call tree may change and later restore.
 * @implNote {@link #get()} is one {@link ThreadLocal#get()}, a scan of the sets made in the
 *     current frame (the current {@link Context#run run}, {@link Context#call call}, {@link
 *     Context#enter scope} or task) and not undone, newest first, at most eight, and only then a
 *     lookup in the frame's mapping, {@code O(log32 n)} for {@code n} bound variables. It
 *     allocates nothing and writes no memory, so threads reading the same variable never contend.
 *     {@link #set} stores the value in a slot of the thread's own state and allocates only its
 *     token (which the JIT can remove when the set and its reset are compiled together); every
 *     eighth set in a frame folds the frame's sets into its trie, {@code O(log32 n)} each. A reset
 *     of the newest set clears its slot, in constant time; any other reset binds the old value
 *     again (or unbinds), as Python's does. Nothing keeps a value reachable past its reset, or
 *     past the frame it was set in.
 * @param <T> the type of the variable's value
 * @since 0.1
 */
public final class ContextVar<T extends @Nullable Object> {

  /*
   * Implementation notes.
   *
   * A variable holds no state of its own beyond its name, default and hash: its values live in
   * the mappings of contexts and in the overlay of each thread's state (see ThreadState). So a get
   * writes nothing, not even a cache, and any number of threads can read the same variable
   * without sharing a written cache line: get is one ThreadLocal lookup, a scan of the few sets
   * made in the current frame, newest first, and only then a lookup in the frame's mapping.
   */

  /** Marks "not bound" in a mapping lookup, where {@code null} is a value. */
  static final Object UNBOUND = new Object();

  /** Marks "no default", where {@code null} is a legal default. */
  private static final Object NO_DEFAULT = new Object();

  /** Fibonacci hashing of a sequence spreads hashes evenly over the trie's 5-bit slots. */
  private static final int HASH_INCREMENT = 0x61c88647;

  /** HASH_INCREMENT's multiplicative inverse modulo 2^32: hash * this is the creation number. */
  private static final int HASH_INCREMENT_INVERSE = 0xebb34377;

  private static final AtomicInteger NEXT_HASH = new AtomicInteger();

  private final String name;
  private final @Nullable Object defaultValue;
  private final int hash;

  /**
   * Where this variable's bucket is in a thread's slot hints (ThreadState): 4 bits per bucket, 7
   * buckets by the variable's creation number modulo 7 (distinct for 7 variables made in a row),
   * computed once here so that a get pays no division.
   */
  final int slotHintShift;

  private ContextVar(String name, @Nullable Object defaultValue) {
    this.name = name;
    this.defaultValue = defaultValue;
    this.hash = NEXT_HASH.getAndAdd(HASH_INCREMENT);
    // The creation number: the hash times the inverse of HASH_INCREMENT modulo 2^32.
    this.slotHintShift = Integer.remainderUnsigned(hash * HASH_INCREMENT_INVERSE, 7) << 2;
  }

  /**
   * Creates a variable with no default: {@link #get()} throws while it is not bound.
   *
   * @param name the name, used in messages and {@link #toString()}; not {@code null}
   * @param <T> the type of the variable's value
   * @return a new variable, different from every other
   * @throws NullPointerException if {@code name} is {@code null}
   */
  public static <T extends @Nullable Object> ContextVar<T> named(String name) {
    Objects.requireNonNull(name, "name");
    return new ContextVar<>(name, NO_DEFAULT);
  }

  /**
   * Creates a variable with a default: {@link #get()} returns {@code defaultValue} while the
   * variable is not bound.
   *
   * @param name the name, used in messages and {@link #toString()}; not {@code null}
   * @param defaultValue the default; may be {@code null}, which is a default like any other
   * @param <T> the type of the variable's value
   * @return a new variable, different from every other
   * @throws NullPointerException if {@code name} is {@code null}
   */
  public static <T extends @Nullable Object> ContextVar<T> named(String name, T defaultValue) {
    Objects.requireNonNull(name, "name");
    return new ContextVar<>(name, defaultValue);
  }

  /** {@return the name given when this variable was created} */
  public String name() {
    return name;
  }

  /** {@return whether this variable has a default value (which may be {@code null})} */
  public boolean hasDefault() {
    return defaultValue != NO_DEFAULT;
  }

  /**
   * Returns the value of this variable in the current thread's current context; else its default.
   *
   * @return the bound value (which may be {@code null}), else the default
   * @throws NoSuchElementException if the variable is not bound in the current context and has
   *     no default; the message names the variable
   */
  public T get() {
    Object value = ThreadState.current().lookup(this);
    return value != UNBOUND ? cast(value) : defaultOrThrow();
  }

  /**
   * Returns the value of this variable in the current context, else {@code fallback}. The fallback
   * wins over the variable's own default, as with Python's {@code var.get(default)}.
   *
   * @param fallback what to return when the variable is not bound; may be {@code null}
   * @return the bound value (which may be {@code null}), else {@code fallback}
   */
  public T getOrDefault(T fallback) {
    Object value = ThreadState.current().lookup(this);
    return value != UNBOUND ? cast(value) : fallback;
  }

  /** {@return whether this variable is bound in the current context (its default aside)} */
  public boolean isBound() {
    return ThreadState.current().lookup(this) != UNBOUND;
  }

  /**
   * Binds {@code value} in the current context, replacing any previous value there. Only the
   * current context changes: copies taken before, and other threads, do not see it.
   *
   * @param value the value; may be {@code null}
   * @return a token that undoes exactly this set, through {@link #reset(Token)} or {@link
   *     Token#close()}; it may be ignored when the value is never to be restored
   */
  public Token<T> set(T value) {
    return ThreadState.current().push(this, value);
  }

  /**
   * Restores this variable to what it was before {@code token}'s {@link #set}: the previous value,
   * or unbound if it had none. Other variables keep their current values.
   *
   * <p>The checks run in this order, before anything changes, and a failed reset leaves the
   * context and the token as they were (the token can still be used in the right context).
   *
   * @param token the token that {@link #set} returned; not {@code null}
   * @throws IllegalStateException if the token was already used
   * @throws IllegalArgumentException if the token belongs to another variable, or was created in
   *     another {@link Context} than the current one
   */
  public void reset(Token<T> token) {
    Objects.requireNonNull(token, "token");
    ContextVar<T> owner = token.var();
    if (token.used()) {
      throw alreadyUsed(owner);
    }
    if (owner != this) {
      throw otherVariable(owner);
    }
    // The token's own thread state, known to be this thread's when the token's thread is this
    // one: a compare, where a ThreadState.current() would be a ThreadLocal lookup.
    ThreadState setOn = token.state;
    if (token.thread == Thread.currentThread()
        && setOn != null
        && token.epoch == setOn.epoch
        && token.slot == setOn.top - 1) {
      // The newest set of the current frame, nothing set since: undo it by clearing its slot.
      setOn.pop();
    } else {
      ThreadState state = ThreadState.current();
      Context made = token.context;
      // A token of a base frame names no context: it belongs to its own thread's base frame, not
      // to a deferred task frame, which has no context either (and no token: a set makes one).
      if (made != state.context
          || (made == null && (token.state != state || state.inDeferredTask()))) {
        throw otherContext();
      }
      // Python's reset: bind the old value again, or unbind, whatever was set since.
      Object old = token.old();
      if (old == UNBOUND) {
        state.unbind(this);
      } else {
        state.push(this, old);
      }
    }
    token.markUsed();
  }

  // The errors of reset take the token's fields, not the token, which must not escape (see Token).

  private static IllegalStateException alreadyUsed(ContextVar<?> var) {
    return new IllegalStateException(
        String.format(
            Locale.ROOT,
            "%s has already been used; a token resets its variable once: set() again to get a new"
                + " token",
            Token.describe(var, true)));
  }

  private IllegalArgumentException otherVariable(ContextVar<?> var) {
    return new IllegalArgumentException(
        String.format(
            Locale.ROOT,
            "%s was created by another variable than %s; reset a token with the variable whose"
                + " set() returned it",
            Token.describe(var, false),
            this));
  }

  private IllegalArgumentException otherContext() {
    return new IllegalArgumentException(
        String.format(
            Locale.ROOT,
            "%s was created in another Context than the current one; reset it in the Context"
                + " where set() was called (inside the same run/call/enter)",
            Token.describe(this, false)));
  }

  private T defaultOrThrow() {
    if (defaultValue == NO_DEFAULT) {
      throw new NoSuchElementException(
          String.format(
              Locale.ROOT,
              "%s is not bound in the current context and has no default; set() it first, use"
                  + " getOrDefault(fallback), or create it with ContextVar.named(name, default)",
              this));
    }
    return cast(defaultValue);
  }

  @SuppressWarnings("unchecked")
  private T cast(@Nullable Object value) {
    return (T) value;
  }

  /**
   * {@return the hash code of this variable} It is fixed at creation, identity-like (equal only
   * for the same variable) and spread evenly for the trie.
   */
  @Override
  public int hashCode() {
    return hash;
  }

  /**
   * Compares by identity: a variable equals only itself.
   *
   * @param obj the object to compare with; may be {@code null}
   * @return {@code obj == this}
   */
  @Override
  public boolean equals(@Nullable Object obj) {
    return obj == this;
  }

  /**
   * Returns the name and the default, as in {@code ContextVar[name=request_id, default=none]},
   * {@code ContextVar[name=level, default=3]} or {@code ContextVar[name=mode, default="fast"]}
   * (strings in quotes, so that a default {@code "none"} differs from no default). Never throws: a default whose own {@code toString}
   * throws, or refers back to this variable, is shown in a short form.
   *
   * @return a description of this variable
   */
  @Override
  public String toString() {
    return "ContextVar[name=" + name + ", default=" + describeDefault() + "]";
  }

  private String describeDefault() {
    return defaultValue == NO_DEFAULT ? "none" : Formatting.value(this, defaultValue);
  }
}
