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
 * @implNote {@link #get()} costs about one {@link ThreadLocal#get()} when the variable was last
 *     read in the same mapping (the common case in a hot loop): each variable caches its last
 *     lookup as an immutable (mapping, value) record, which is valid as long as the thread's
 *     current mapping is that very mapping. Otherwise it walks the few recent sets and then the
 *     trie, {@code O(log32 n)} for {@code n} bound variables. {@link #set} takes constant time
 *     and memory (one stacked node and the token), whatever {@code n}; one set in every few folds
 *     the recent sets into the trie, at {@code O(log32 n)} each. A reset right after its set
 *     takes constant time too. The cache never keeps a value alive
 *     past the {@link Context#run run}, {@link Context#call call} or {@link Context#enter scope}
 *     it was read in (so never past a task of the {@code org.contextvars4j.concurrent} wrappers),
 *     nor past a {@link #reset}. In a thread's own base context, which never exits, the value
 *     last read through a variable may stay reachable until that variable is next read in another
 *     context: one value per variable at most.
 * @param <T> the type of the variable's value
 * @since 0.1
 */
public final class ContextVar<T extends @Nullable Object> {

  /*
   * Implementation notes: the lookup cache.
   *
   * CPython caches, per variable, the value of its last lookup together with the thread and the
   * thread's "context version"; the cache is valid while both are unchanged. Here the key of the
   * cache is the mapping itself: mappings are immutable, so a (mapping, value) pair never goes
   * stale, whichever thread made it and whichever thread reads it. A hit needs no thread id and
   * no version counter: it is one identity comparison after the ThreadLocal lookup.
   *
   * Why not key a record on its thread (owner == Thread.currentThread(), which would skip the
   * ThreadLocal lookup) and drop the thread's records whenever its mapping changes? Because the
   * per-thread bookkeeping lives in a ThreadLocal, and the JDK erases the ThreadLocals of some
   * pool threads between tasks (ForkJoinPool's common pool workers, which run CompletableFuture's
   * default async stages): the thread keeps its identity, forgets its records, and would read a
   * stale value later. A mapping-keyed record cannot go stale, whoever forgets what.
   *
   * The cache field is written with plain stores and read with plain loads, racily by design.
   * Cached has only final fields, so a reader that sees a Cached sees it fully built (JLS 17.5);
   * a reader that sees an older record, or another thread's, either matches its own mapping (then
   * the value is right for that mapping) or misses and looks the value up. The worst a race can do
   * is cost a miss.
   *
   * A record keeps its mapping, and so every value in it, reachable. So that a finished task's
   * values do not outlive it in a cache, each thread notes the records it writes while a context
   * is entered and drops them (if still in place) when its outermost entered context exits; a
   * nested exit drops those of every mapping but the one it returns to, and a reset those of the
   * mapping it undoes. A record written in a thread's base context holds only what that context
   * held recently.
   */

  /** Marks "not bound" in a mapping lookup and in the cache, where {@code null} is a value. */
  static final Object UNBOUND = new Object();

  /** Marks "no default", where {@code null} is a legal default. */
  private static final Object NO_DEFAULT = new Object();

  /** Fibonacci hashing of a sequence spreads hashes evenly over the trie's 5-bit slots. */
  private static final int HASH_INCREMENT = 0x61c88647;

  private static final AtomicInteger NEXT_HASH = new AtomicInteger();

  private final String name;
  private final @Nullable Object defaultValue;
  private final int hash;

  // Racy by design: see the implementation notes.
  private @Nullable Cached cache;

  private ContextVar(String name, @Nullable Object defaultValue) {
    this.name = name;
    this.defaultValue = defaultValue;
    this.hash = NEXT_HASH.getAndAdd(HASH_INCREMENT);
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
    Object value = lookup(ThreadState.current());
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
    Object value = lookup(ThreadState.current());
    return value != UNBOUND ? cast(value) : fallback;
  }

  /** {@return whether this variable is bound in the current context (its default aside)} */
  public boolean isBound() {
    return lookup(ThreadState.current()) != UNBOUND;
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
    ThreadState state = ThreadState.current();
    Vars before = state.vars;
    Vars after = before.with(this, value);
    state.replaceVars(after);
    return new Token<>(this, state.context(), before, after);
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
    token.checkUsable(this);
    ThreadState state = ThreadState.current();
    // A deferred context (null) was never asked for, so no token can belong to it.
    if (state.context == null || token.context() != state.context) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "%s was created in another Context than the current one; reset it in the Context"
                  + " where set() was called (inside the same run/call/enter)",
              token));
    }
    Vars undone = state.vars;
    state.replaceVars(token.restore(undone));
    // The undone mapping holds the value being removed: a cache of it must not keep it alive.
    Cached cached = cache;
    if (cached != null && cached.mapping == undone) {
      cache = null;
    }
    // So must this thread's noted records of it, of this variable or another one read meanwhile.
    if (state.hasNotedCaches()) {
      state.forgetNotedCachesOf(undone);
    }
  }

  /**
   * Returns the value of this variable in the thread's current mapping, or {@link #UNBOUND};
   * remembers the answer for the next lookup in the same mapping.
   */
  private Object lookup(ThreadState state) {
    Cached cached = cache;
    if (cached != null && cached.mapping == state.vars) {
      return cached.value;
    }
    return slowLookup(state);
  }

  // Kept out of lookup() so that the hit path stays small enough to inline.
  private Object slowLookup(ThreadState state) {
    Vars mapping = state.vars;
    Object value = mapping.lookup(this);
    Cached record = new Cached(mapping, value);
    cache = record;
    state.noteCache(this, record);
    return value;
  }

  /** {@return the mapping of a lookup record that {@link #slowLookup} noted} */
  static Vars mappingOf(Object record) {
    return ((Cached) record).mapping;
  }

  /** Drops the cache if it is still {@code record}; a newer record, maybe another thread's, stays. */
  void forgetCache(Object record) {
    if (cache == record) {
      cache = null;
    }
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

  /** One remembered lookup: the value of this variable in {@code mapping} ({@code UNBOUND}). */
  private static final class Cached {
    final Vars mapping;
    final @Nullable Object value;

    Cached(Vars mapping, @Nullable Object value) {
      this.mapping = mapping;
      this.value = value;
    }
  }
}
