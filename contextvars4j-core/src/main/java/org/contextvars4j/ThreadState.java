package org.contextvars4j;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The per-thread part of the model: which {@link Context} the thread is in now. One instance per
 * thread (platform or virtual), created on the thread's first use of this library.
 *
 * <p>Only the owning thread reads or writes the fields, so they are plain fields.
 */
final class ThreadState {

  // One ThreadLocal lookup per operation is the whole per-thread cost: everything else hangs off
  // this object. A virtual thread gets its own instance, as it gets its own ThreadLocal values.
  private static final ThreadLocal<ThreadState> STATE = ThreadLocal.withInitial(ThreadState::new);

  /**
   * The current context. Starts as this thread's own empty base context. Null while a task of the
   * concurrent wrappers runs in a context that nothing has asked for yet (see Context.runInNew):
   * read it through {@link #context()}, which makes that context on first need.
   */
  @Nullable Context context;

  /**
   * Always {@code context.vars}, mirrored here so that {@link ContextVar#get()} needs one load
   * less on its hot path. Every write to one is paired with a write to the other.
   */
  Vars vars;

  /** How many contexts are entered on this thread and not yet exited (the base one aside). */
  int depth;

  /*
   * The lookup caches this thread wrote while a context was entered, as (variable, record) pairs,
   * one per variable. A variable's cache keeps its mapping, and every value in it, reachable; when
   * the outermost entered context exits (a pooled thread finishing its task) the records this
   * thread left behind are dropped, so a finished task's values do not outlive it in a cache.
   */
  private Object[] notedCaches = NO_NOTES;
  private int notedCount;

  private static final Object[] NO_NOTES = new Object[0];

  private ThreadState() {
    this.context = Context.base(Thread.currentThread());
    this.vars = context.vars;
  }

  static ThreadState current() {
    return STATE.get();
  }

  /** {@return the current context} Makes it, holding the current mapping, if it was deferred. */
  Context context() {
    Context current = context;
    if (current == null) {
      current = context = Context.deferred(vars);
    }
    return current;
  }

  /** Remembers that {@code var}'s cache now holds {@code record}, written by this thread. */
  void noteCache(ContextVar<?> var, Object record) {
    if (depth == 0) {
      // The base context lives as long as the thread: its values are reachable anyway.
      return;
    }
    Object[] notes = notedCaches;
    int end = 2 * notedCount;
    for (int i = 0; i < end; i += 2) {
      if (notes[i] == var) {
        notes[i + 1] = record;
        return;
      }
    }
    if (end == notes.length) {
      notes = notedCaches = Arrays.copyOf(notes, Math.max(8, 2 * notes.length));
    }
    notes[end] = var;
    notes[end + 1] = record;
    notedCount++;
  }

  /** Called when the outermost entered context exits: drops the caches noted since it was entered. */
  void forgetNotedCaches() {
    Object[] notes = notedCaches;
    int end = 2 * notedCount;
    for (int i = 0; i < end; i += 2) {
      ((ContextVar<?>) notes[i]).forgetCache(notes[i + 1]);
      notes[i] = null;
      notes[i + 1] = null;
    }
    notedCount = 0;
  }

  boolean hasNotedCaches() {
    return notedCount != 0;
  }

  /**
   * Called when a nested context exits back to {@code kept}: drops the noted caches of every other
   * mapping. Those hold the exited context's values, which must not outlive it while the outer
   * context goes on; caches of {@code kept} stay, as they are valid again.
   */
  void forgetNotedCachesExcept(Vars kept) {
    forgetNotedCaches(kept, false);
  }

  /**
   * Called when a reset undoes {@code undone}: drops the noted caches of that mapping, whichever
   * variable wrote them, since it holds the value that was reset.
   */
  void forgetNotedCachesOf(Vars undone) {
    forgetNotedCaches(undone, true);
  }

  /** Drops the noted caches whose mapping is ({@code of}) or is not ({@code !of}) {@code mapping}. */
  private void forgetNotedCaches(Vars mapping, boolean of) {
    Object[] notes = notedCaches;
    int end = 2 * notedCount;
    int kept = 0;
    for (int i = 0; i < end; i += 2) {
      ContextVar<?> var = (ContextVar<?>) notes[i];
      Object record = notes[i + 1];
      if ((ContextVar.mappingOf(record) == mapping) == of) {
        var.forgetCache(record);
      } else {
        notes[kept] = var;
        notes[kept + 1] = record;
        kept += 2;
      }
    }
    Arrays.fill(notes, kept, end, null);
    notedCount = kept / 2;
  }

  /** Makes {@code mapping} the current mapping, in this state and in the current context. */
  void replaceVars(Vars mapping) {
    vars = mapping;
    Context current = context;
    if (current != null) {
      current.vars = mapping;
    }
  }
}
