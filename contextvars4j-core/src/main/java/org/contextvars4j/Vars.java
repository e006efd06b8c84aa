package org.contextvars4j;

import java.util.Iterator;
import java.util.Map;
import org.contextvars4j.hamt.Hamt;
import org.jspecify.annotations.Nullable;

/**
 * The immutable mapping a {@link Context} holds: a {@link Hamt} with, on top of it, a short chain
 * of the latest sets. Copies of a context share its mapping, whose bindings never change.
 *
 * <p>Immutable and thread-safe; every field but the lazily built {@link #flat} trie is final.
 */
final class Vars {

  /*
   * Implementation notes.
   *
   * A set in a trie copies the path to the entry: at 1,000 variables that is two nodes of up to
   * 32 pairs each, a few hundred bytes, and the cost grows with the number of variables. Most sets
   * are undone soon (try-with-resources, a request's scope) or made on a small context. So a set
   * first only stacks one (variable, value) node on the mapping it changes: constant time and
   * memory, whatever the size. A lookup walks the stack (newest first) and then the trie. When the
   * stack reaches MAX_STACKED nodes, the next set folds it into a new trie, which keeps lookups
   * short and makes the trie copies rare: one fold per MAX_STACKED sets, each copying what one set
   * would have.
   *
   * A stacked node may shadow a value in a node below it or in the trie: that value stays
   * reachable until the fold, at most MAX_STACKED values per mapping, and never after the mapping
   * itself is gone. A removal is never stacked: it folds at once, so that a removed value does not
   * stay reachable through the mapping it was removed from.
   *
   * size(), iteration and asMap() need the folded trie; it is built on first use and kept in
   * `flat` (racy single-check: any thread may build it, every build is equal, and a Hamt is safe to
   * publish through a race).
   */

  /** Sets stacked before they are folded into the trie. Small: a lookup walks the stack. */
  private static final int MAX_STACKED = 8;

  static final Vars EMPTY = new Vars(Hamt.empty());

  /** The trie under the stack. */
  private final Hamt<ContextVar<?>, Object> base;

  /** The newest stacked set, or null when nothing is stacked on {@link #base}. */
  private final @Nullable ContextVar<?> var;

  private final @Nullable Object value;

  /** The mapping this set was stacked on; null when nothing is stacked. */
  private final @Nullable Vars below;

  /** How many sets are stacked, this one included. */
  private final int stacked;

  /** {@link #base} with the stack folded in; built on first use. */
  private @Nullable Hamt<ContextVar<?>, Object> flat;

  private Vars(Hamt<ContextVar<?>, Object> base) {
    this.base = base;
    this.var = null;
    this.value = null;
    this.below = null;
    this.stacked = 0;
    this.flat = base;
  }

  private Vars(Vars below, ContextVar<?> var, @Nullable Object value) {
    this.base = below.base;
    this.var = var;
    this.value = value;
    this.below = below;
    this.stacked = below.stacked + 1;
  }

  /** Returns the value of {@code key}, or {@link ContextVar#UNBOUND}. */
  Object lookup(ContextVar<?> key) {
    for (Vars node = this; node.var != null; node = node.below) {
      if (node.var == key) {
        return node.value;
      }
    }
    return base.getOrDefault(key, ContextVar.UNBOUND);
  }

  /** Returns a mapping that binds {@code key} to {@code newValue}; constant time when stacking. */
  Vars with(ContextVar<?> key, @Nullable Object newValue) {
    if (stacked < MAX_STACKED) {
      return new Vars(this, key, newValue);
    }
    return new Vars(flat().with(key, newValue));
  }

  /**
   * Returns a trie-only mapping that binds, on top of this one, the variable and value pairs
   * {@code (pairs[2i], pairs[2i + 1])} for {@code from <= i < to}, later pairs winning.
   */
  Vars withAll(Object[] pairs, int from, int to) {
    Hamt<ContextVar<?>, Object> folded = flat();
    int end = 2 * to;
    next:
    for (int i = 2 * from; i < end; i += 2) {
      // A later pair of the same variable wins: skip this one rather than copy a trie path for a
      // value about to be replaced (a variable set again and again, as an MDC is, folds once).
      for (int later = i + 2; later < end; later += 2) {
        if (pairs[later] == pairs[i]) {
          continue next;
        }
      }
      folded = folded.with((ContextVar<?>) pairs[i], pairs[i + 1]);
    }
    return new Vars(folded);
  }

  /** Returns a mapping without {@code key}, or this mapping when {@code key} is not bound. */
  Vars without(ContextVar<?> key) {
    Hamt<ContextVar<?>, Object> folded = flat();
    Hamt<ContextVar<?>, Object> removed = folded.without(key);
    return removed == folded ? this : new Vars(removed);
  }

  int size() {
    return flat().size();
  }

  Iterator<Map.Entry<ContextVar<?>, Object>> iterator() {
    return flat().iterator();
  }

  Map<ContextVar<?>, Object> asMap() {
    return flat().asMap();
  }

  /** The stack folded into the trie, oldest set first so that newer sets win. */
  private Hamt<ContextVar<?>, Object> flat() {
    Hamt<ContextVar<?>, Object> folded = flat;
    if (folded == null) {
      Vars[] nodes = new Vars[stacked];
      int count = 0;
      for (Vars node = this; node.var != null; node = node.below) {
        nodes[count++] = node;
      }
      folded = base;
      next:
      for (int i = count - 1; i >= 0; i--) {
        // nodes[0 .. i - 1] are newer: one of the same variable wins, so skip this one.
        for (int newer = 0; newer < i; newer++) {
          if (nodes[newer].var == nodes[i].var) {
            continue next;
          }
        }
        folded = folded.with(nodes[i].var, nodes[i].value);
      }
      flat = folded;
    }
    return folded;
  }

  @Override
  public String toString() {
    return flat().toString();
  }
}
