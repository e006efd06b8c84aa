package org.contextvars4j;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The per-thread part of the model: which context the thread is in now, and the sets made in it
 * since it was entered. One instance per thread (platform or virtual), created on the thread's
 * first use of this library.
 *
 * <p>Only the owning thread reads or writes the fields, so they are plain fields.
 */
final class ThreadState {

  /*
   * Implementation notes: frames and the overlay.
   *
   * The thread is always in one frame: its base frame (context == null), or a frame opened by an
   * entry into a Context (run, call, enter, or a task of the concurrent wrappers; a task's frame
   * has no context either until its first set, see DEFERRED_TASK). The current mapping of the
   * frame is its base mapping (frameVars(): the Context's vars, or baseVars) with the frame's
   * region of the overlay on top: the sets made in the frame and not undone, newest
   * last, in slots [bottom, top). The newest slot of the region is held in the fields newestVar
   * and newestValue (when the NEWEST bit of `flags` is set); every older one in `entries`, slot i at (entries[2i],
   * entries[2i + 1]). A nested frame starts its region where the outer one ends (the outer's
   * newest set is moved into `entries` first); leaving it clears its slots.
   *
   * Why an overlay of mutable slots rather than a new immutable node per set: this object lives
   * as long as its thread, so it is soon in the old generation, and under G1 every store of a
   * reference to a young object (a freshly made node) into an old one takes the write barrier's
   * slow path, a StoreLoad fence and a card mark, several nanoseconds each. A set here stores the
   * value (as ThreadLocal.set does) and, when the field held another variable, the variable; the
   * token is not stored anywhere, so the JIT can remove it when the set and its reset are
   * compiled together. A reset that undoes the newest set clears it: null stores, which no
   * barrier slows. A Context is given a mapping (an immutable Vars) only when one is needed: a
   * copy (`snapshot`, kept until the next change), or the frame's exit, which writes the frame's
   * mapping back into its Context.
   *
   * Why the newest set in fields: a get then reads three fields of this object, on one cache
   * line, after the ThreadLocal lookup that finds it; a slot of an array would cost the array's
   * header, a bounds check and a second cache line. A request reads what it set last.
   *
   * A frame's region holds at most MAX_OVERLAY sets: the next set folds them into the frame's
   * base mapping (a trie update each), so that a lookup scans a few slots and then the trie.
   *
   * `epoch` names the current frame's overlay as it is: a fresh number, unique on this thread, is
   * taken whenever a frame is entered or its region is folded, and the outer frame's number comes
   * back when a nested frame is left. A token remembers the epoch and slot of its set: while both
   * are current and the slot is the top one, nothing has been set since and no slot of it was
   * moved, and the reset just clears the slot.
   *
   * Why slot hints: a request sets its trace context first and a few variables after it, and a
   * scan from the newest slot down costs a few nanoseconds per slot passed. The low 28 bits of
   * `flags` are 7 four-bit buckets, one per variable hash class (ContextVar.slotHintShift): the
   * slot, relative to `bottom`, of the last older slot written for a variable of that class, plus
   * one; 0 if no older slot of the region holds a variable of the class; 15 (UNKNOWN_HINTS) if
   * that is not known. They share an int with the newest-set and SLOW bits because a thread's
   * state must stay within 64 bytes (the per-thread memory target). Older slots are written only
   * when the newest set is moved into `entries` (prepareSet, spillNewest), so that is where the
   * hint is written: a set and its reset on top of the others, the steady state of a request,
   * never touch the hints. A primitive, so writing it takes no barrier.
   *
   * A bucket at 0 is a proof: every spill sets its variable's bucket to a slot, and buckets go
   * back to 0 only when the region is emptied (a new frame, a fold, a frame left). So a set or a
   * get of a variable whose bucket is 0 scans nothing: the first set of each variable in a
   * request, a read of what was bound before it. A frame that becomes current again with older
   * slots (a nested frame was left) gets every bucket at 15: its hints were not kept. Any other
   * hint is a guess, checked before it is used: if the hinted slot is one of the frame's older
   * slots and holds the variable, it is the variable's newest older slot, because every later
   * older slot of the variable (or of another one of its class) was written by a spill that
   * rewrote the hint. Otherwise (another variable of the class, a slot a reset left, 15) a scan
   * looks, and writes the hint of what it finds: the newest older slot, the same answer.
   *
   * Variables stay in cleared slots and in newestVar (values do not): a set then stores the
   * variable only when the slot held another one, which in a request loop it rarely does. So a
   * thread may keep a few variable objects reachable, at most one per slot, never a value.
   *
   * Step frames (TaskSteps): a step of a task that runs in one Context across threads, a Kotlin
   * coroutine between two suspensions. The task's next step may start on another thread before
   * this thread has left the step (kotlinx.coroutines restores late), so a step never holds its
   * sets in the overlay, where the next step could not see them, and never writes back on leaving,
   * which could undo the next step's sets: every set and unbind of a step makes the new mapping at
   * once and publishes it in the Context (write-through), and every read of a step reads the
   * Context's mapping, never a copy of it: a step may go on after another thread's step of the
   * same task published (kotlinx's withContext returns at once when its block, dispatched to
   * another thread, finished before the caller suspended). A step frame's epoch is negative (the sign bit set on a fresh number): that is what
   * marks the frame, and a nested frame's leaving restores it with the epoch. A step's token has
   * slot STEP_SLOT, which never matches the top slot, so its reset binds the old value again.
   */

  /** Sets a frame's region of the overlay holds before they are folded into its base mapping. */
  static final int MAX_OVERLAY = 8;

  private static final Object[] NO_ENTRIES = new Object[0];

  /** The slot of a step's tokens: no slot, so their reset never takes the clear-the-slot path. */
  static final int STEP_SLOT = Integer.MIN_VALUE;

  /**
   * The bit of {@link #epoch} that marks a deferred task frame: a task of the concurrent wrappers
   * that has not set anything yet, whose mapping is in {@link #baseVars} under no context (null).
   * A bit of a primitive, where a marker Context in {@link #context} would be one more reference
   * store into this long-lived object per task, and under G1 a store of a non-null reference into
   * an old object takes a StoreLoad fence. The epoch carries it because a nested frame's leaving
   * restores the epoch, and with it the mark. Never set with the sign bit (a step's).
   */
  private static final long DEFERRED_TASK = 1L << 62;

  /** The bit of {@link #flags} that says the newest set is in the fields. */
  private static final int NEWEST = 1 << 31;

  /**
   * The bit of {@link #flags} that sends the next set to the checks of {@link #prepareSet}: a step
   * frame, a deferred task frame, or a frame made current again whose region may be full. Set
   * conservatively and cleared by that path, so that a set in the steady state tests one bit for
   * every rare case.
   */
  private static final int SLOW = 1 << 30;

  /** One bucket of the slot hints in {@link #flags}, shifted by a variable's slotHintShift. */
  private static final int HINT_MASK = 0xF;

  /**
   * Every bucket at 15, above any slot (a region holds at most MAX_OVERLAY = 8): not known, scan.
   * The hints of a frame whose region is not empty when it becomes current again.
   */
  private static final int UNKNOWN_HINTS = 0x0FFF_FFFF;

  // One ThreadLocal lookup per operation is the whole per-thread cost: everything else hangs off
  // this object. A virtual thread gets its own instance, as it gets its own ThreadLocal values.
  private static final ThreadLocal<ThreadState> STATE = ThreadLocal.withInitial(ThreadState::new);

  /** The context of the current frame; null in the thread's base frame. */
  @Nullable Context context;

  /** The base mapping of the thread's base frame. */
  private Vars baseVars = Vars.EMPTY;

  /** The older slots of the overlay: slot i is (entries[2i], entries[2i + 1]). */
  private Object[] entries = NO_ENTRIES;

  /** The current frame's region of the overlay: slots [bottom, top), the newest one included. */
  int bottom;

  int top;


  private @Nullable ContextVar<?> newestVar;
  private @Nullable Object newestValue;

  /**
   * Bit 31 ({@link #NEWEST}): whether slot top - 1 is the newest set of the current frame, held in
   * newestVar and newestValue. Bit 30 ({@link #SLOW}): the next set checks for the rare cases.
   * Bits 0-27: the slot hints, 7 buckets of 4 bits; see the notes.
   */
  private int flags;

  /** The current frame's overlay epoch; see the implementation notes. */
  long epoch;

  /** The last epoch number taken on this thread. */
  private long epochs;

  /** The current mapping as an immutable Vars, once a copy asked for it; null after any change. */
  private @Nullable Vars snapshot;

  private ThreadState() {}

  static ThreadState current() {
    return STATE.get();
  }

  /** {@return the base mapping of the current frame} */
  Vars frameVars() {
    Context current = context;
    return current == null ? baseVars : current.vars;
  }

  private void setFrameVars(Vars mapping) {
    Context current = context;
    if (current == null) {
      baseVars = mapping;
    } else {
      current.vars = mapping;
    }
  }

  /** {@return whether the current frame is a step frame} */
  boolean inStep() {
    return epoch < 0;
  }

  /**
   * {@return whether the current frame is a deferred task frame} A task of the concurrent
   * wrappers that has not set anything: its mapping is in {@link #baseVars} (the runner keeps the
   * thread's own), {@link #context} is null, and a set makes the task's private Context first
   * ({@link #prepareSet}).
   */
  boolean inDeferredTask() {
    return (epoch & DEFERRED_TASK) != 0;
  }

  /** Returns the value of {@code var} in the current mapping, or {@link ContextVar#UNBOUND}. */
  Object lookup(ContextVar<?> var) {
    // The newest set first, inline: a request reads what it set last. The rest is out of line, so
    // that this stays small enough for the JIT to inline into every get.
    if (newestVar == var && flags < 0) {
      return newestValue;
    }
    return lookupBelow(var);
  }

  /** The lookup past the newest set: the frame's older slots, then its base mapping. */
  private Object lookupBelow(ContextVar<?> var) {
    Object value = olderValue(var, olderEnd());
    return value != Token.NOT_LOOKED_UP ? value : frameVars().lookup(var);
  }

  /**
   * The value of {@code var} in the frame's older slots, [bottom, end), or {@link
   * Token#NOT_LOOKED_UP}. A bucket at 0 says no older slot of the region holds a variable of the
   * class, so nothing is scanned: the case of a request's first set of each variable, and of a
   * read of what was bound before the request. Otherwise the hinted slot if it holds the
   * variable, else a scan.
   */
  private Object olderValue(ContextVar<?> var, int end) {
    int hinted = (flags >>> var.slotHintShift) & HINT_MASK;
    if (hinted == 0) {
      return Token.NOT_LOOKED_UP;
    }
    int at = 2 * (bottom + hinted - 1);
    Object[] slots = entries;
    if (at < 2 * end && slots[at] == var) {
      return slots[at + 1];
    }
    return scanOlder(var, end);
  }

  /**
   * The scan of {@link #olderValue}, newest first, for a hint that another variable of the class
   * took, or that leaving a nested frame made unknown. Out of line: it is the rare case, and its
   * loop, unrolled, would make every set's compiled code too big to inline.
   */
  private Object scanOlder(ContextVar<?> var, int end) {
    Object[] slots = entries;
    for (int i = 2 * end - 2, stop = 2 * bottom; i >= stop; i -= 2) {
      if (slots[i] == var) {
        // The newest older slot of the variable: a valid hint, for its next read. Its bucket's
        // other variable, if it had the hint, scans next time (a primitive store, this thread's).
        int shift = var.slotHintShift;
        flags = (flags & ~(HINT_MASK << shift)) | ((i / 2 - bottom + 1) << shift);
        return slots[i + 1];
      }
    }
    return Token.NOT_LOOKED_UP;
  }

  /** {@return the end of the frame's slots that are in {@link #entries}} */
  private int olderEnd() {
    return flags < 0 ? top - 1 : top;
  }

  /** {@return the current mapping} Constant time unless a set was made since the last one. */
  Vars mapping() {
    if (top == bottom) {
      return frameVars();
    }
    Vars made = snapshot;
    if (made == null) {
      if (flags < 0) {
        made = frameMapping(frameVars(), bottom, olderEnd(), newestVar).with(newestVar, newestValue);
      } else {
        made = frameMapping(frameVars(), bottom, olderEnd(), null);
      }
      snapshot = made;
    }
    return made;
  }

  /**
   * The base mapping {@code base} with the older slots [from, to) stacked on it, but for the slots
   * that a later one, or {@code shadowed} (the newest set, stacked by the caller), replaces: a
   * variable set again and again (an MDC) adds one node to a copy, not one per set.
   */
  private Vars frameMapping(Vars base, int from, int to, @Nullable ContextVar<?> shadowed) {
    Object[] slots = entries;
    Vars mapping = base;
    int end = 2 * to;
    next:
    for (int i = 2 * from; i < end; i += 2) {
      Object var = slots[i];
      if (var == shadowed) {
        continue;
      }
      for (int later = i + 2; later < end; later += 2) {
        if (slots[later] == var) {
          continue next;
        }
      }
      mapping = mapping.with((ContextVar<?>) var, slots[i + 1]);
    }
    return mapping;
  }

  /**
   * The mapping of {@code suspended}, a context entered on this thread under the current frame:
   * its base mapping with its region of the overlay, as it was when a frame was entered on it.
   */
  Vars suspendedMapping(Context suspended) {
    return frameMapping(suspended.vars, suspended.regionBottom(), suspended.regionTop(), null);
  }

  /**
   * Binds {@code var} to {@code value} in the current frame and returns the token of the set:
   * the value stored in a field, the variable too if the field held another one.
   */
  <T extends @Nullable Object> Token<T> push(ContextVar<T> var, @Nullable Object value) {
    // The old value, for the token: in the region if set there, else in the base mapping, which
    // is immutable and is looked up only if the token is asked for it. One call site for each
    // helper, one bit tested for every rare case, and one allocation of the token, so that this
    // method's compiled code stays small enough to be inlined into a caller even once it was
    // compiled on its own (HotSpot inlines no method already compiled to more than
    // InlineSmallCode, 2,500 bytes), and the JIT can then remove the token. A second token made
    // elsewhere and returned here would merge with this one, and a merged allocation is kept.
    Object old = Token.NOT_LOOKED_UP;
    if ((flags & (NEWEST | SLOW)) != 0) {
      // Not the steady state of a request, where the fields are free and the region has room.
      old = prepareSet(var, value);
    }
    int slot;
    if (epoch >= 0) {
      assert top - bottom < MAX_OVERLAY && !inDeferredTask() : "a rare case without SLOW";
      if (old == Token.NOT_LOOKED_UP) {
        // The slots include the newest set, if there was one: it is not this variable's.
        old = olderValue(var, top);
      }
      if (newestVar != var) {
        newestVar = var;
      }
      newestValue = value;
      flags |= NEWEST;
      slot = top++;
    } else {
      // A step's set, published by prepareSet; its old value was looked up there.
      slot = STEP_SLOT;
    }
    if (snapshot != null) {
      // Tested first: a store of null still takes G1's pre-barrier, whose code would count
      // against this method's inlining budget, and a set rarely follows a copy.
      snapshot = null;
    }
    // Not a deferred frame here: the SLOW bit marks one, and prepareSet made its context. The
    // token reads the context itself (see its constructor).
    Context current = context;
    return new Token<>(
        var,
        this,
        Thread.currentThread(),
        slot,
        epoch,
        old,
        old != Token.NOT_LOOKED_UP ? null : current == null ? baseVars : current.vars);
  }

  /**
   * Binds {@code var} to {@code value} in the current frame, as a set whose token is dropped: for
   * the integrations that keep one immutable value in a variable and replace it on every change
   * (an MDC's put and remove), which no reset ever undoes. No token and no old value.
   *
   * <p>When the frame's newest set is of {@code var}, its value is replaced in place, so that a
   * run of such changes holds one slot, not one each, and never folds. That is what a set and a
   * dropped token would come to: only the token of the slot's own set can undo the slot, and its
   * reset clears the slot, whatever value it holds then (Python's reset restores the value before
   * that set, whatever was set since).
   */
  void bind(ContextVar<?> var, @Nullable Object value) {
    if (newestVar == var && flags < 0) {
      newestValue = value;
    } else {
      if ((flags & (NEWEST | SLOW)) != 0) {
        // The old value it returns is a token's, and there is none.
        prepareSet(var, value);
      }
      if (epoch >= 0) {
        if (newestVar != var) {
          newestVar = var;
        }
        newestValue = value;
        flags |= NEWEST;
        top++;
      }
    }
    if (snapshot != null) {
      snapshot = null;
    }
  }

  /**
   * The part of a set that the steady state skips. In a step frame, the whole set: the new
   * mapping is made and published in the step's Context now, and the old value returned. Else it
   * makes the room the set needs (a deferred task frame's context, a larger array), moves the
   * newest set into the slots, folds a full region into the frame's base mapping, and returns
   * the moved set's value if it was {@code var}'s, else {@link Token#NOT_LOOKED_UP}: the caller
   * looks in the slots.
   *
   * <p>One method, not a few small ones, so that it stays over 325 bytecodes: HotSpot's C2
   * inlines no larger method (FreqInlineSize), however hot its call site, and this call site is
   * hot in a thread whose sets are never reset (Python's {@code var.set(x)} with the token
   * dropped), where every set moves the one before into the slots. A {@code ContextVar.set}
   * compiled on its own while that runs would otherwise carry this code and outgrow
   * InlineSmallCode (2,500 bytes of machine code: C2 inlines no method already compiled to
   * more), and from then on no caller could inline the set and remove its token: every set +
   * reset of the process would allocate 48 bytes and cost about three times as much, as decided
   * by when the compiler happened to run. ThreadStateCodeSizeTest keeps this method over the
   * limit.
   */
  private Object prepareSet(ContextVar<?> var, @Nullable Object value) {
    if (epoch < 0) {
      // A step's set: the new mapping is made and published in the step's Context at once.
      Context step = context;
      assert step != null : "a step frame has its task's Context";
      Vars before = step.vars;
      Object old = before.lookup(var);
      step.vars = before.with(var, value);
      return old;
    }
    if (inDeferredTask()) {
      // A token names its context: the task's private one is made now, holding the frame's
      // mapping, and is the frame's context from now. No token has the frame's epoch yet, and
      // what saved it (a nested frame's entry) has been left, so the epoch can lose the mark.
      Context made = new Context(baseVars);
      made.startRegion(bottom);
      context = made;
      epoch &= ~DEFERRED_TASK;
    }
    Object[] slots = entries;
    if (2 * top > slots.length) {
      // Room for slot top - 1, the newest set's.
      slots = Arrays.copyOf(slots, Math.max(4, Math.max(2 * top, 2 * slots.length)));
      entries = slots;
    }
    // A frame that is neither a step's nor deferred, with room: the next set can skip this.
    int bits = flags & ~SLOW;
    Object old = Token.NOT_LOOKED_UP;
    if (bits < 0) {
      // The newest set moves into its slot, top - 1. The fields keep its value, which the caller
      // overwrites: a store fewer is a write barrier fewer.
      ContextVar<?> spilled = newestVar;
      assert spilled != null : "the newest-set bit is set only by a set, which names its variable";
      Object spilledValue = newestValue;
      int at = 2 * (top - 1);
      if (slots[at] != spilled) {
        slots[at] = spilled;
      }
      slots[at + 1] = spilledValue;
      int shift = spilled.slotHintShift;
      bits = (bits & ~(HINT_MASK << shift) & ~NEWEST) | ((top - bottom) << shift);
      if (spilled == var) {
        old = spilledValue;
      }
    }
    flags = bits;
    if (top - bottom >= MAX_OVERLAY) {
      // A full region: folded into the frame's base mapping, a trie update per variable, so that
      // a lookup scans a few slots and then the trie. The old value, if not the moved set's, is
      // in the new base mapping, where the token looks it up if asked.
      setFrameVars(frameVars().withAll(slots, bottom, top));
      clearRegion();
      startEpoch();
    }
    return old;
  }

  /**
   * Moves the newest set into {@link #entries}, at its slot, top - 1, before a nested frame takes
   * the fields. The same move as a set's, which {@link #prepareSet} writes out in its own code (see
   * there why); the fields keep the value, which the caller clears.
   */
  private void spillNewest() {
    Object[] slots = entries;
    if (2 * top > slots.length) {
      slots = Arrays.copyOf(slots, Math.max(4, Math.max(2 * top, 2 * slots.length)));
      entries = slots;
    }
    int at = 2 * (top - 1);
    ContextVar<?> spilled = newestVar;
    assert spilled != null : "the newest-set bit is set only by a set, which names its variable";
    if (slots[at] != spilled) {
      slots[at] = spilled;
    }
    slots[at + 1] = newestValue;
    int shift = spilled.slotHintShift;
    flags = (flags & ~(HINT_MASK << shift) & ~NEWEST) | ((top - bottom) << shift);
  }

  /** Undoes the newest set, which the caller checked: clears its slot. */
  void pop() {
    int slot = --top;
    if (flags < 0) {
      flags &= ~NEWEST;
      newestValue = null;
    } else {
      entries[2 * slot + 1] = null;
    }
    snapshot = null;
  }

  /**
   * Unbinds {@code var} in the current frame: makes the frame's mapping, without the variable,
   * its base mapping and clears the region, so that the removed value is reachable from nothing
   * the frame holds.
   */
  void unbind(ContextVar<?> var) {
    Vars current = mapping();
    if (top != bottom) {
      clearRegion();
    }
    startEpoch();
    setFrameVars(current.without(var));
  }

  /**
   * Starts a new epoch after the region was cleared, so that no token of a set made before takes
   * the clear-the-slot path. A step frame keeps its epoch, which names it (its tokens never take
   * that path); a deferred task frame (an unbind in it) keeps its mark.
   */
  private void startEpoch() {
    if (epoch >= 0) {
      epoch = ++epochs | (epoch & DEFERRED_TASK);
    }
    snapshot = null;
  }

  /** Clears the current frame's slots: no value stays reachable from them. */
  private void clearRegion() {
    Object[] slots = entries;
    for (int i = 2 * bottom + 1, end = 2 * olderEnd(); i < end; i += 2) {
      slots[i] = null;
    }
    // An empty region: no bucket names a slot, and the newest set is gone.
    flags = rareFrameBit();
    newestValue = null;
    top = bottom;
  }

  /* ---- frames ---- */

  /**
   * Opens a frame for {@code entered}, which the caller owns. The caller keeps {@link #context},
   * {@link #bottom} and {@link #epoch} as they were before, to pass them back to {@link #leave}.
   */
  void enter(Context entered) {
    suspendCurrentFrame();
    entered.startRegion(top);
    context = entered;
  }

  /** {@return the base mapping of the thread's base frame, or of a deferred task frame} */
  Vars baseVars() {
    return baseVars;
  }

  /**
   * Opens a deferred task frame holding {@code mapping}: no Context until a set asks for one. The
   * caller keeps what {@link #enter} says, and {@link #baseVars()}, to pass them to {@link
   * #leaveTask}.
   */
  void enterTask(Vars mapping) {
    suspendCurrentFrame();
    if (context != null) {
      // A null store takes no post-barrier, and on a pool thread the context is null already.
      context = null;
    }
    epoch |= DEFERRED_TASK;
    baseVars = mapping;
    flags = SLOW;
  }

  /** {@return {@link #SLOW} if the current frame is a step's or a deferred task's, else 0} */
  private int rareFrameBit() {
    return (epoch & (Long.MIN_VALUE | DEFERRED_TASK)) != 0 ? SLOW : 0;
  }

  /** Starts a new frame's empty region above the current frame's, with a fresh epoch. */
  private void suspendCurrentFrame() {
    if (flags < 0) {
      // The outer frame's newest set joins its older ones: the fields are for the new frame.
      spillNewest();
      newestValue = null;
    }
    Context outer = context;
    if (outer != null && epoch >= 0) {
      // Where the outer context's region ends, for a read of it while it is suspended. (Not for
      // a step, whose Context another thread's step may be using: its mapping is published.)
      outer.endRegion(top);
    }
    bottom = top;
    epoch = ++epochs;
    flags = 0;
    snapshot = null;
  }

  /**
   * Leaves the current frame, the frame of {@code left}: writes its mapping back into {@code
   * left}, which someone may run or read again, clears its region, and makes the given outer
   * frame current again.
   */
  void leave(Context left, @Nullable Context outer, int outerBottom, long outerEpoch) {
    if (top != bottom) {
      left.vars = mapping();
      clearRegion();
    }
    restoreFrame(outer, outerBottom, outerEpoch);
  }

  /**
   * Leaves the current frame, a task frame, whose context no one else can see (nothing to write
   * back), and makes the given outer frame current again.
   */
  void leaveTask(@Nullable Context outer, Vars outerVars, int outerBottom, long outerEpoch) {
    if (top != bottom) {
      clearRegion();
    }
    baseVars = outerVars;
    restoreFrame(outer, outerBottom, outerEpoch);
  }

  /**
   * Opens a step frame for {@code task}, whose mapping is the task's Context's: what the task's
   * steps published last, on whichever thread. The caller keeps what {@link #enter} says, and
   * {@link #baseVars()}, to pass them to {@link #leaveStep}, and reads {@link #epoch} afterwards:
   * it names the frame.
   */
  void enterStep(Context task) {
    suspendCurrentFrame();
    context = task;
    epoch |= Long.MIN_VALUE;
    flags = SLOW;
  }

  /**
   * Leaves a step frame that opened at slot {@code stepBottom}, with whatever is still above it
   * (the caller exited what it could), and makes the given outer frame current again. An outer
   * step frame reads its Context's mapping, so it sees what a nested step of the same task
   * (kotlinx's undispatched {@code withContext}) published.
   */
  void leaveStep(
      int stepBottom,
      @Nullable Context outer,
      Vars outerVars,
      int outerBottom,
      long outerEpoch) {
    Object[] slots = entries;
    for (int i = 2 * stepBottom + 1, end = 2 * olderEnd(); i < end; i += 2) {
      slots[i] = null;
    }
    flags &= ~NEWEST;
    newestValue = null;
    top = stepBottom;
    baseVars = outerVars;
    restoreFrame(outer, outerBottom, outerEpoch);
  }

  private void restoreFrame(@Nullable Context outer, int outerBottom, long outerEpoch) {
    context = outer;
    bottom = outerBottom;
    epoch = outerEpoch;
    // The outer frame's newest set was moved into the slots when it was suspended. Its hints were
    // not kept: with older slots, a variable may be in any of them, and the region may be full.
    flags = (top != outerBottom ? UNKNOWN_HINTS | SLOW : 0) | rareFrameBit();
    snapshot = null;
  }
}
