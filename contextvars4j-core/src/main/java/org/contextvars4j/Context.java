package org.contextvars4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.contextvars4j.hamt.Hamt;
import org.jspecify.annotations.Nullable;

/**
 * A mapping from {@link ContextVar}s to values, which a thread runs in. Python: {@code
 * contextvars.Context}.
 *
 * <p>Every thread is always in exactly one <i>current</i> context: at first its own empty one,
 * created when the thread first uses this library. {@link ContextVar#get()} reads the current
 * context and {@link ContextVar#set} writes to it. A {@code Context} object is a mutable holder
 * of an immutable mapping: a set while the context is current replaces the mapping it holds.
 *
 * {@snippet lang = java :
 * Context snapshot = Context.copyCurrent();          // O(1), whatever the number of variables
 * executor.execute(() -> snapshot.run(() -> {         // the task runs in the snapshot
 *   REQUEST_ID.get();                                  // sees the submitter's value
 *   REQUEST_ID.set("changed");                         // stays in the snapshot
 * }));
 * }
 *
 * <h2>Entering and exiting</h2>
 *
 * {@link #run}, {@link #call} and {@link #enter} make this context the current one on the calling
 * thread, and afterwards make the previous one current again, also when the action throws. Sets
 * made meanwhile are recorded in this context and are seen by whoever runs it next. A context is
 * current on at most one thread at a time, and at most once on it: entering a context that is
 * already entered, on any thread, throws {@link IllegalStateException} ({@code already entered});
 * when two threads race to enter the same context, exactly one wins. To run the same values
 * concurrently, run a {@link #copy()} on each thread.
 *
 * <h2>Copies are O(1)</h2>
 *
 * The mapping is immutable: {@link #copyCurrent()} and {@link #copy()} take it as it is, in
 * constant time and memory, and a later set in either context makes a new mapping that shares
 * everything with the old one. A set stacks one small node on the mapping, in constant time
 * whatever the number of variables; every few sets the stack is folded into a persistent hash
 * array mapped trie ({@link Hamt}), copying only the trie paths it changes.
 *
 * <h2>Threads and propagation</h2>
 *
 * A thread never sees another thread's sets. Values reach another thread only through a {@code
 * Context} object handed to it (typically a {@link #copyCurrent()} taken where the work is
 * created, run where the work runs), or through helpers that do exactly that. {@link #wrap}
 * binds an action to this context object itself, as asyncio's {@code call_soon(callback,
 * context=ctx)} does: its sets are seen in this context afterwards, and running two wrapped
 * actions of one context at the same time is the {@code already entered} error.
 *
 * <h2>Misuse</h2>
 *
 * Misuse throws, as the JDK does, rather than being logged and tolerated: entering an entered
 * context, closing a {@link Scope} twice, out of order or on another thread throw {@link
 * IllegalStateException}. Nothing is left half-changed by a failed call: the current context is
 * exactly what it was. If an action run by {@link #run} or {@link #call} leaves a {@link Scope}
 * open, the run still restores the previous context, closes the forgotten scope, and reports it
 * with an {@link IllegalStateException} (added as suppressed when the action threw).
 *
 * <h2>Relation to Python's {@code contextvars}</h2>
 *
 * <table class="striped">
 *   <caption>Python to Java</caption>
 *   <thead><tr><th scope="col">Python</th><th scope="col">Java</th></tr></thead>
 *   <tbody>
 *     <tr><th scope="row">{@code copy_context()}</th><td>{@link #copyCurrent()}</td></tr>
 *     <tr><th scope="row">{@code Context()}</th><td>{@link #Context()}</td></tr>
 *     <tr><th scope="row">{@code ctx.run(f)}</th><td>{@link #run}, {@link #call}</td></tr>
 *     <tr><th scope="row">{@code ctx[var]}, {@code ctx.get(var, d)}</th>
 *         <td>{@link #get}, {@link #getOrDefault}</td></tr>
 *     <tr><th scope="row">{@code var in ctx}, {@code len(ctx)}, {@code iter(ctx)}</th>
 *         <td>{@link #containsKey}, {@link #size}, {@link #iterator}</td></tr>
 *     <tr><th scope="row">{@code keys()}, {@code values()}, {@code items()}, {@code ==}</th>
 *         <td>{@link #asMap()}</td></tr>
 *   </tbody>
 * </table>
 *
 * <h2>Thread safety</h2>
 *
 * A {@code Context} is thread-safe. Entering is atomic (see above). Reading methods ({@link #get},
 * {@link #size}, {@link #copy}, ...) may be called from any thread: they see one whole mapping,
 * never a torn one, and see the sets of a thread that ran this context if that run happened
 * before the read (for example, the run finished before the read through a future, a latch or an
 * executor). On the thread that runs it, they see every set made so far; on any other thread,
 * while a run is going on, they see the context as that run found it: the running thread keeps
 * its sets in its own state and writes them into the context when it leaves it. {@code equals}
 * and {@code hashCode} are identity-based, because a context is mutable; compare {@link #asMap()}
 * snapshots to compare contents.
 *
 * <p>Unless otherwise specified, passing a {@code null} argument to a method of this class causes
 * a {@link NullPointerException} to be thrown.
 *
 * @apiNote {@code java.lang.ScopedValue} fits a value bound once for a structured call tree; a
 *     {@code Context} fits values that code deep in the work may set and restore, and that must
 *     follow the work to wherever it is continued.
 * @implNote {@link #copyCurrent()} allocates one 32-byte object; after a set, the first copy also
 *     makes the immutable mapping of the sets made since the entry (one small node each), which
 *     later copies share until the next change. {@link #run} and {@link #call} cost one
 *     compare-and-set on this context, one reference store into the thread's state on entry and
 *     one on exit, and, if the action set anything, the write-back of the new mapping.
 * @since 0.1
 */
public final class Context implements Iterable<ContextVar<?>> {

  private static final VarHandle OWNER;

  /** The bits of {@link #region} that hold its length. */
  private static final int REGION_LENGTH_BITS = 4;

  static {
    try {
      OWNER = MethodHandles.lookup().findVarHandle(Context.class, "owner", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
    InternalAccess.install();
  }

  /*
   * The mapping. While this context is entered, the thread it is entered on holds the sets made
   * since the entry in its own state (ThreadState's overlay), and writes the mapping back here
   * when it leaves; a fold of those sets writes it here too. Written only by that thread (and
   * before the context is published). Plain: a mapping has final fields only (but a cache of its
   * own folded form, which is safe to race on), so a racing reader sees a whole mapping.
   */
  Vars vars;

  /**
   * The id ({@link Thread#threadId()}) of the thread on which this context is current, or 0 (no
   * thread has id 0). Set by compare-and-set on enter: that is what makes two racing enters
   * produce exactly one winner. A primitive, not the Thread: a held context is soon in the old
   * generation, and under G1 a compare-and-set of a reference into an old object also takes the
   * write barrier's slow path, a StoreLoad fence, on every entry; this one takes no barrier.
   */
  @SuppressWarnings("unused") // accessed through OWNER
  private volatile long owner;

  /** The open {@link Scope} that entered this context, if entered by {@link #enter()}. */
  @Nullable EnteredScope entry;

  /*
   * While entered: the slots of the thread's overlay that hold this context's sets, [bottom, top);
   * top is kept only while a nested frame is open above this one (ThreadState.enter), for a read
   * of this context on its own thread meanwhile. Used only by the owner thread. One int, bottom
   * << 4 | (top - bottom), so that the object stays 32 bytes beside the long owner (copyCurrent
   * allocates one): a frame's region holds at most ThreadState.MAX_OVERLAY sets, and 27 bits of
   * bottom are more slots than a thread's stack has room for nested frames.
   */
  private int region;

  /** Starts this context's region of the overlay at slot {@code bottom}, empty. */
  void startRegion(int bottom) {
    region = bottom << REGION_LENGTH_BITS;
  }

  /** Ends this context's region of the overlay at slot {@code top}, a nested frame above it. */
  void endRegion(int top) {
    int length = top - regionBottom();
    assert length >= 0 && length <= ThreadState.MAX_OVERLAY : "a region of " + length + " slots";
    region = (region & -(1 << REGION_LENGTH_BITS)) | length;
  }

  /** {@return the first slot of this context's region of the overlay} */
  int regionBottom() {
    return region >>> REGION_LENGTH_BITS;
  }

  /** {@return the end of this context's region, as {@link #endRegion} left it} */
  int regionTop() {
    return regionBottom() + (region & ((1 << REGION_LENGTH_BITS) - 1));
  }

  /** Creates a new, empty context (Python {@code Context()}). */
  public Context() {
    this(Vars.EMPTY);
  }

  Context(Vars vars) {
    this.vars = vars;
  }

  /**
   * Returns a new context holding the current thread's current mapping (Python {@code
   * copy_context()}). Takes constant time and memory, whatever the number of variables.
   *
   * @return a new context, not entered anywhere, with the same values as the current one
   */
  public static Context copyCurrent() {
    return new Context(ThreadState.current().mapping());
  }

  /**
   * {@return a new context holding this context's current mapping (Python {@code ctx.copy()})}
   * Takes constant time and memory.
   */
  public Context copy() {
    return new Context(current());
  }

  /**
   * Runs {@code action} with this context current on the calling thread, then makes the previous
   * context current again, also when {@code action} throws. Sets made by {@code action} are
   * recorded in this context.
   *
   * @param action what to run; not {@code null}
   * @throws IllegalStateException if this context is already entered, on this thread or another
   *     (the message contains {@code already entered}); nothing is run then
   * @throws NullPointerException if {@code action} is {@code null}
   */
  public void run(Runnable action) {
    Objects.requireNonNull(action, "action");
    ThreadState state = ThreadState.current();
    claim();
    Context outer = state.context;
    int outerBottom = state.bottom;
    long outerEpoch = state.epoch;
    state.enter(this);
    try {
      action.run();
    } catch (Throwable failure) {
      exitAfterFailure(state, outer, outerBottom, outerEpoch, failure);
      throw failure;
    }
    exit(state, outer, outerBottom, outerEpoch);
  }

  /**
   * Calls {@code op} with this context current on the calling thread and returns its result, then
   * makes the previous context current again, also when {@code op} throws. Sets made by {@code op}
   * are recorded in this context.
   *
   * @param op what to call; not {@code null}
   * @param <R> the type of the result
   * @param <X> the type of the exception {@code op} may throw
   * @return the result of {@code op}
   * @throws X what {@code op} throws, unchanged
   * @throws IllegalStateException if this context is already entered, on this thread or another
   *     (the message contains {@code already entered}); nothing is called then
   * @throws NullPointerException if {@code op} is {@code null}
   */
  public <R extends @Nullable Object, X extends Throwable> R call(CallableOp<R, X> op) throws X {
    Objects.requireNonNull(op, "op");
    ThreadState state = ThreadState.current();
    claim();
    Context outer = state.context;
    int outerBottom = state.bottom;
    long outerEpoch = state.epoch;
    state.enter(this);
    R result;
    try {
      result = op.call();
    } catch (Throwable failure) {
      exitAfterFailure(state, outer, outerBottom, outerEpoch, failure);
      throw failure;
    }
    exit(state, outer, outerBottom, outerEpoch);
    return result;
  }

  /**
   * Makes this context current on the calling thread until the returned scope is closed. For
   * integrations (servlet filters, handlers, interceptors) that cannot wrap the work in a lambda;
   * prefer {@link #run} or {@link #call} where they fit.
   *
   * {@snippet lang = java :
   * try (Context.Scope ignored = context.enter()) {
   *   chain.doFilter(request, response);
   * }
   * }
   *
   * @return the scope to close, on this thread, to make the previous context current again
   * @throws IllegalStateException if this context is already entered, on this thread or another
   *     (the message contains {@code already entered})
   */
  public Scope enter() {
    ThreadState state = ThreadState.current();
    claim();
    EnteredScope entered = new EnteredScope(this, state, Thread.currentThread());
    entry = entered;
    state.enter(this);
    return entered;
  }

  /**
   * Returns an action that, each time it runs, runs {@code action} in this very context object
   * (asyncio {@code call_soon(callback, context=ctx)}): its sets are recorded here and seen by
   * the next run. Running it while this context is entered, also from another thread, throws
   * {@code already entered}; wrap a {@link #copy()} per task to run concurrently.
   *
   * @param action the action to wrap; not {@code null}
   * @return the wrapping action
   * @throws NullPointerException if {@code action} is {@code null}
   */
  public Runnable wrap(Runnable action) {
    Objects.requireNonNull(action, "action");
    return () -> run(action);
  }

  /**
   * Returns a callable that, each time it is called, calls {@code action} in this very context
   * object; see {@link #wrap(Runnable)}.
   *
   * @param action the callable to wrap; not {@code null}
   * @param <V> the type of the result
   * @return the wrapping callable, which returns {@code action}'s result and throws its exception
   * @throws NullPointerException if {@code action} is {@code null}
   */
  public <V extends @Nullable Object> Callable<V> wrap(Callable<V> action) {
    Objects.requireNonNull(action, "action");
    CallableOp<V, Exception> op = action::call; // adapted once, not on every call
    return () -> call(op);
  }

  /**
   * Returns the value bound to {@code var} in this context; the variable's default does not count
   * (Python {@code ctx[var]}).
   *
   * @param var the variable; not {@code null}
   * @param <T> the type of the variable's value
   * @return the bound value, which may be {@code null}
   * @throws NoSuchElementException if {@code var} is not bound in this context
   * @throws NullPointerException if {@code var} is {@code null}
   */
  @SuppressWarnings("unchecked")
  public <T extends @Nullable Object> T get(ContextVar<T> var) {
    Objects.requireNonNull(var, "var");
    Object value = current().lookup(var);
    if (value == ContextVar.UNBOUND) {
      throw new NoSuchElementException(
          String.format(
              Locale.ROOT,
              "%s is not bound in %s; use getOrDefault(var, fallback) or check containsKey(var)",
              var,
              // identity(), not this: toString() would format every value, and may throw.
              identity()));
    }
    return (T) value;
  }

  /**
   * Returns the value bound to {@code var} in this context, else {@code fallback} (Python {@code
   * ctx.get(var, default)}); the variable's own default does not count.
   *
   * @param var the variable; not {@code null}
   * @param fallback what to return when {@code var} is not bound; may be {@code null}
   * @param <T> the type of the variable's value
   * @return the bound value (which may be {@code null}), else {@code fallback}
   * @throws NullPointerException if {@code var} is {@code null}
   */
  @SuppressWarnings("unchecked")
  public <T extends @Nullable Object> T getOrDefault(ContextVar<T> var, T fallback) {
    Objects.requireNonNull(var, "var");
    Object value = current().lookup(var);
    return value == ContextVar.UNBOUND ? fallback : (T) value;
  }

  /**
   * {@return whether {@code var} is bound in this context (Python {@code var in ctx})}
   *
   * @param var the variable; not {@code null}
   * @throws NullPointerException if {@code var} is {@code null}
   */
  public boolean containsKey(ContextVar<?> var) {
    Objects.requireNonNull(var, "var");
    return current().lookup(var) != ContextVar.UNBOUND;
  }

  /** {@return the number of variables bound in this context (Python {@code len(ctx)})} */
  public int size() {
    return current().size();
  }

  /**
   * Returns an iterator over the variables bound in this context when this method is called
   * (Python {@code iter(ctx)}), in no particular order; later sets do not affect it.
   *
   * @return an iterator over the bound variables, which does not support {@code remove}
   */
  @Override
  public Iterator<ContextVar<?>> iterator() {
    Iterator<Map.Entry<ContextVar<?>, Object>> entries = current().iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return entries.hasNext();
      }

      @Override
      public ContextVar<?> next() {
        return entries.next().getKey();
      }
    };
  }

  /**
   * Returns an unmodifiable snapshot of this context's mapping, in constant time (Python {@code
   * keys()}, {@code values()} and {@code items()}); later sets do not show in it. Two contexts hold
   * the same values when their snapshots are equal, as Python's {@code ==} on contexts.
   *
   * @return an unmodifiable map from each bound variable to its value (values may be {@code
   *     null})
   */
  public Map<ContextVar<?>, @Nullable Object> asMap() {
    return current().asMap();
  }

  /**
   * Returns this context's identity and values, e.g. {@code Context@1b6d3586{request_id="r-42",
   * level=3}}, in no particular order. Never throws: a value whose {@code toString} throws, or
   * leads back to this context, is shown in a short form.
   *
   * @return a description of this context
   */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(identity()).append('{');
    for (Iterator<Map.Entry<ContextVar<?>, Object>> it = current().iterator(); it.hasNext(); ) {
      Map.Entry<ContextVar<?>, Object> entry = it.next();
      sb.append(entry.getKey().name()).append('=').append(Formatting.value(this, entry.getValue()));
      if (it.hasNext()) {
        sb.append(", ");
      }
    }
    return sb.append('}').toString();
  }

  /**
   * {@return this context's mapping as the reading thread should see it} On the thread it is
   * entered on, that includes the sets made since the entry, which that thread holds in its state
   * until it leaves; on any other thread, what the last thread to leave it wrote back.
   */
  private Vars current() {
    if ((long) OWNER.getAcquire(this) == Thread.currentThread().threadId()) {
      ThreadState state = ThreadState.current();
      return state.context == this ? state.mapping() : state.suspendedMapping(this);
    }
    return vars;
  }

  /* ---- entering and exiting; the caller checked its arguments ---- */

  /*
   * Tasks of the org.contextvars4j.concurrent wrappers run in a new context holding the mapping
   * captured when the task was handed over. That context is reachable from nowhere else (no method
   * hands it out: copyCurrent() and copy() make new ones), so no other thread can try to enter it:
   * no compare-and-set, and nothing to write back when the task ends. Most tasks never set, so
   * the context object is not even made: the thread's state holds the mapping under no context,
   * marked by a bit of its epoch (ThreadState.inDeferredTask), until a set asks for a context for
   * its token. What to restore afterwards stays in this method's locals. These are reached through
   * InternalAccess.
   */

  /** Runs {@code task} in a new context holding {@code mapping}, known to no one else. */
  static void runInNew(Vars mapping, Runnable task) {
    ThreadState state = ThreadState.current();
    Context outer = state.context;
    Vars outerVars = state.baseVars();
    int outerBottom = state.bottom;
    long outerEpoch = state.epoch;
    state.enterTask(mapping);
    try {
      task.run();
    } catch (Throwable failure) {
      IllegalStateException forgotten = leaveNew(state, outer, outerVars, outerBottom, outerEpoch);
      if (forgotten != null) {
        failure.addSuppressed(forgotten);
      }
      throw failure;
    }
    IllegalStateException forgotten = leaveNew(state, outer, outerVars, outerBottom, outerEpoch);
    if (forgotten != null) {
      throw forgotten;
    }
  }

  /** Calls {@code op} in a new context holding {@code mapping}, known to no one else. */
  static <R extends @Nullable Object, X extends Throwable> R callInNew(
      Vars mapping, CallableOp<R, X> op) throws X {
    ThreadState state = ThreadState.current();
    Context outer = state.context;
    Vars outerVars = state.baseVars();
    int outerBottom = state.bottom;
    long outerEpoch = state.epoch;
    state.enterTask(mapping);
    R result;
    try {
      result = op.call();
    } catch (Throwable failure) {
      IllegalStateException forgotten = leaveNew(state, outer, outerVars, outerBottom, outerEpoch);
      if (forgotten != null) {
        failure.addSuppressed(forgotten);
      }
      throw failure;
    }
    IllegalStateException forgotten = leaveNew(state, outer, outerVars, outerBottom, outerEpoch);
    if (forgotten != null) {
      throw forgotten;
    }
    return result;
  }

  /**
   * Ends a run of {@link #runInNew}/{@link #callInNew}: exits what the task left entered (every
   * context above the task's frame was entered by a scope: runs and calls exit themselves, while
   * the task's own context, deferred or made by a set, has none), restores the outer frame, and
   * returns the error that reports a forgotten scope, if any.
   */
  private static @Nullable IllegalStateException leaveNew(
      ThreadState state,
      @Nullable Context outer,
      Vars outerVars,
      int outerBottom,
      long outerEpoch) {
    StringBuilder forgotten = null;
    for (Context inner = state.context;
        inner != null && inner.entry != null;
        inner = state.context) {
      forgotten = exitForgotten(state, forgotten);
    }
    state.leaveTask(outer, outerVars, outerBottom, outerEpoch);
    return forgotten == null ? null : forgottenScopes("a task's run", forgotten);
  }

  /** Makes the calling thread the owner of this context, or throws {@code already entered}. */
  private void claim() {
    if (!OWNER.compareAndSet(this, 0L, Thread.currentThread().threadId())) {
      throw alreadyEntered();
    }
  }

  /** Exits this context, the current one on this thread, back to the given outer frame. */
  private void leave(ThreadState state, @Nullable Context outer, int outerBottom, long outerEpoch) {
    state.leave(this, outer, outerBottom, outerEpoch);
    entry = null;
    // Release: the next thread to enter (by CAS) sees every set made here.
    OWNER.setRelease(this, 0L);
  }

  private void exit(ThreadState state, @Nullable Context outer, int outerBottom, long outerEpoch) {
    if (state.context != this) {
      throw closeForgottenScopes(state, outer, outerBottom, outerEpoch);
    }
    leave(state, outer, outerBottom, outerEpoch);
  }

  private void exitAfterFailure(
      ThreadState state,
      @Nullable Context outer,
      int outerBottom,
      long outerEpoch,
      Throwable failure) {
    if (state.context != this) {
      failure.addSuppressed(closeForgottenScopes(state, outer, outerBottom, outerEpoch));
    } else {
      leave(state, outer, outerBottom, outerEpoch);
    }
  }

  /**
   * The action entered contexts through {@link #enter()} and did not close them: exits them all,
   * then this one, and returns the error that reports it.
   */
  private IllegalStateException closeForgottenScopes(
      ThreadState state, @Nullable Context outer, int outerBottom, long outerEpoch) {
    StringBuilder forgotten = null;
    while (state.context != this) {
      forgotten = exitForgotten(state, forgotten);
    }
    leave(state, outer, outerBottom, outerEpoch);
    return forgottenScopes(identity() + ".run/call", forgotten);
  }

  /** Exits the innermost entered context, which an action forgot; adds it to {@code forgotten}. */
  static StringBuilder exitForgotten(ThreadState state, @Nullable StringBuilder forgotten) {
    Context inner = state.context;
    assert inner != null : "a forgotten scope has a context";
    EnteredScope scope = inner.entry;
    assert scope != null : "only a scope is left open: runs and calls exit themselves";
    scope.closed = true;
    StringBuilder names = forgotten == null ? new StringBuilder() : forgotten.append(", ");
    names.append(inner.identity());
    inner.leave(state, scope.previous, scope.previousBottom, scope.previousEpoch);
    return names;
  }

  private static IllegalStateException forgottenScopes(String where, @Nullable Object forgotten) {
    return new IllegalStateException(
        String.format(
            Locale.ROOT,
            "a Scope entered inside %s was not closed (%s); it was closed when the run ended:"
                + " close every Scope from enter() before the action returns, e.g. with"
                + " try-with-resources",
            where,
            forgotten));
  }

  private IllegalStateException alreadyEntered() {
    long holder = (long) OWNER.getAcquire(this);
    Thread self = Thread.currentThread();
    String where;
    if (holder == 0) {
      // It was left between the failed compare-and-set and this read.
      where = "another thread";
    } else if (holder == self.threadId()) {
      where = "this thread (\"" + self.getName() + "\")";
    } else {
      where = describeThread(holder);
    }
    return new IllegalStateException(
        String.format(
            Locale.ROOT,
            "%s is already entered on %s; a context runs on one thread at a time: enter a copy()"
                + " to run the same values concurrently",
            identity(),
            where));
  }

  /**
   * Names the thread of id {@code id} for a message: by its name if it is a live platform thread
   * (found among the threads of the root thread group: an error path, so a walk of them is
   * affordable), else by its id (a virtual thread is in no group).
   */
  private static String describeThread(long id) {
    ThreadGroup root = Thread.currentThread().getThreadGroup();
    while (root.getParent() != null) {
      root = root.getParent();
    }
    Thread[] live = new Thread[root.activeCount() + 8];
    int count = root.enumerate(live, true);
    for (int i = 0; i < count; i++) {
      if (live[i].threadId() == id) {
        return "thread \"" + live[i].getName() + "\"";
      }
    }
    return "thread #" + id + " (a virtual thread, or one that ended)";
  }

  String identity() {
    return "Context@" + Integer.toHexString(System.identityHashCode(this));
  }

  /**
   * An operation that returns a result and may throw, for {@link #call}: like {@link Callable},
   * but its exception type is a type parameter, so that {@code call} throws exactly what the
   * operation throws (none, when it throws only unchecked exceptions).
   *
   * @param <R> the type of the result
   * @param <X> the type of the exception thrown
   * @since 0.1
   */
  @FunctionalInterface
  public interface CallableOp<R extends @Nullable Object, X extends Throwable> {
    /**
     * Performs the operation.
     *
     * @return the result
     * @throws X if the operation fails
     */
    R call() throws X;
  }

  /**
   * The entry of a context by {@link #enter()}; closing it makes the previous context current
   * again. A scope belongs to the thread that opened it.
   *
   * <p>Close scopes in the reverse order of opening, on the opening thread, exactly once: a close
   * out of order, on another thread, or a second time throws {@link IllegalStateException} and
   * changes nothing (a double close is a bug to report, not to hide).
   *
   * <p>A {@code Scope} is not thread-safe: it is used by the thread that opened it.
   *
   * @since 0.1
   */
  public interface Scope extends AutoCloseable {
    /**
     * Exits the context this scope entered, making the previous context current again.
     *
     * @throws IllegalStateException if this scope was already closed, is not the innermost open
     *     one on this thread, or was opened on another thread
     */
    @Override
    void close();
  }

  private static final class EnteredScope implements Scope {
    private final Context context;
    private final ThreadState state;
    private final Thread thread;

    /** The frame that was current when this scope was opened, to go back to. */
    final @Nullable Context previous;

    final int previousBottom;
    final long previousEpoch;

    /** Set on the opening thread, by close() or when a run closes a forgotten scope. */
    boolean closed;

    EnteredScope(Context context, ThreadState state, Thread thread) {
      this.context = context;
      this.state = state;
      this.thread = thread;
      this.previous = state.context;
      this.previousBottom = state.bottom;
      this.previousEpoch = state.epoch;
    }

    @Override
    public void close() {
      Thread current = Thread.currentThread();
      if (current != thread) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "Scope of %s was opened on thread \"%s\" and cannot be closed on thread \"%s\";"
                    + " close a scope on the thread that opened it",
                context.identity(),
                thread.getName(),
                current.getName()));
      }
      if (closed) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "Scope of %s is already closed; close each scope exactly once",
                context.identity()));
      }
      Context innermost = state.context;
      if (innermost != context || context.entry != this) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "Scope of %s closed out of order: %s is current on this thread; close scopes in"
                    + " the reverse order of enter(), e.g. with try-with-resources",
                context.identity(),
                innermost == null ? "the thread's own context" : innermost.identity()));
      }
      closed = true;
      context.leave(state, previous, previousBottom, previousEpoch);
    }

    @Override
    public String toString() {
      return "Scope[" + context.identity() + (closed ? ", closed" : "") + "]";
    }
  }
}
