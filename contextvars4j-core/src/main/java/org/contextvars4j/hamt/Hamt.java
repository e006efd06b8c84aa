package org.contextvars4j.hamt;

import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A persistent (immutable) map: a hash array mapped trie, after Bagwell, <i>Ideal Hash Trees</i>
 * (2000), as used by CPython's {@code contextvars} and by gRPC's {@code Context}.
 *
 * <p>Every update returns a new map that shares all untouched nodes with the old one, so an
 * update copies only the path from the root to the changed entry: {@code O(log32 n)} time and
 * memory. Lookups walk the same path. {@link #size()} is {@code O(1)}.
 *
 * {@snippet lang = java :
 * Hamt<String, Integer> empty = Hamt.empty();
 * Hamt<String, Integer> one = empty.with("a", 1);
 * Hamt<String, Integer> two = one.with("b", 2);
 * assert empty.size() == 0 && one.size() == 1 && two.size() == 2; // every version stays valid
 * assert two.without("a").equals(Hamt.empty().with("b", 2));
 * }
 *
 * <h2>Keys and values</h2>
 *
 * Keys are compared with {@code hashCode} and {@code equals}, and must not change while they are
 * in a map. Keys whose 32-bit hash codes are all equal still work, at the price of a linear scan
 * among them. Keys may not be {@code null}; values may. An exception thrown by a key's {@code
 * hashCode} or {@code equals} propagates unchanged, and leaves every map unchanged.
 *
 * <p>Unless otherwise specified, passing a {@code null} key to a method of this class causes a
 * {@link NullPointerException} to be thrown.
 *
 * <h2>Thread safety</h2>
 *
 * A {@code Hamt} is immutable and thread-safe: it may be shared between threads without
 * synchronization, even when published through a data race.
 *
 * @implNote A map with {@code n} entries is a tree of depth about {@code log32(n)}: one node up to
 *     about 20 entries, two up to about 1,000, three up to about 30,000. Each node keeps a 32-bit
 *     bitmap of its occupied slots and a dense array of (key, value) or (null, child) pairs, so
 *     a node holds exactly as many pairs as it has entries and children.
 * @param <K> the type of keys
 * @param <V> the type of values
 * @since 0.1
 */
public final class Hamt<K, V> implements Iterable<Map.Entry<K, V>> {

  /*
   * Implementation notes.
   *
   * A node is either a BitmapNode or a CollisionNode. A BitmapNode at depth d dispatches on the
   * five bits (hash >>> 5d) & 31: bit i of its bitmap is set when slot i is occupied, and the
   * occupied slots are stored densely in `array`, two elements each, at index
   * 2 * bitCount(bitmap & (bit - 1)). A slot holds either a leaf (key, value) or (null, child):
   * keys are never null, so a null key marks a child node without a separate type tag.
   *
   * Two keys whose hashes agree on every bit reach depth 7 (shift 35) without being told apart;
   * they share a CollisionNode, which holds all entries with that one full hash in a flat array.
   * A CollisionNode may also stand at a shallower depth, wherever the first key with that hash
   * was a leaf when the second arrived; a later key with another hash that reaches it splits it
   * by pushing it one level down into a new BitmapNode.
   *
   * Removal keeps the trie canonical enough for memory, not for equality: a child left with a
   * single leaf is inlined into its parent, so removals do not leave chains of one-entry nodes.
   * Structural equality does not depend on shape: equals compares entries, not nodes.
   *
   * Updates first look the key up (cheap: one path), so that "no change" answers with `this` and
   * the size is known before any node is copied; the copying pass then never needs to report
   * back whether it added or replaced, which keeps it free of result holders.
   */

  private static final int BITS = 5;
  private static final int MASK = (1 << BITS) - 1;
  /** Deepest shift at which hash bits remain: 7 levels of 5 bits cover all 32. */
  private static final int MAX_SHIFT = 30;
  /** At most 7 bitmap levels and one collision node below them. */
  private static final int MAX_DEPTH = 8;

  /** Marks "no entry" where {@code null} is a legal value. */
  private static final Object ABSENT = new Object();

  private static final Hamt<?, ?> EMPTY = new Hamt<>(null, 0);

  private final @Nullable Node root;
  private final int size;

  private Hamt(@Nullable Node root, int size) {
    this.root = root;
    this.size = size;
  }

  /**
   * {@return the empty map} It is a shared instance.
   *
   * @param <K> the type of keys
   * @param <V> the type of values
   */
  @SuppressWarnings("unchecked")
  public static <K, V> Hamt<K, V> empty() {
    return (Hamt<K, V>) EMPTY;
  }

  /**
   * Returns a map that binds {@code key} to {@code value} and otherwise equals this one.
   *
   * @param key the key; not {@code null}
   * @param value the value; may be {@code null}
   * @return the new map, or {@code this} when {@code key} is already bound to the identical
   *     ({@code ==}) value
   * @throws NullPointerException if {@code key} is {@code null}
   */
  public Hamt<K, V> with(K key, @Nullable V value) {
    Objects.requireNonNull(key, "key");
    int hash = key.hashCode();
    Object old = find(root, hash, key);
    if (old == value) {
      return this;
    }
    Node newRoot =
        root == null ? BitmapNode.leaf(hash, 0, key, value) : root.with(0, hash, key, value);
    return new Hamt<>(newRoot, old == ABSENT ? size + 1 : size);
  }

  /**
   * Returns a map without {@code key} that otherwise equals this one.
   *
   * @param key the key to remove; not {@code null}
   * @return the new map, or {@code this} when {@code key} is not bound
   * @throws NullPointerException if {@code key} is {@code null}
   */
  public Hamt<K, V> without(K key) {
    Objects.requireNonNull(key, "key");
    int hash = key.hashCode();
    if (find(root, hash, key) == ABSENT) {
      return this;
    }
    if (size == 1) {
      return empty();
    }
    // root is non-null: the key was found in it.
    return new Hamt<>(root.without(0, hash, key), size - 1);
  }

  /**
   * {@return the value bound to {@code key}, or {@code null} when there is none} Use {@link
   * #getOrDefault} or {@link #containsKey} to tell a {@code null} value from an absent key.
   *
   * @param key the key; not {@code null}
   * @throws NullPointerException if {@code key} is {@code null}
   */
  public @Nullable V get(K key) {
    return getOrDefault(key, null);
  }

  /**
   * Returns the value bound to {@code key}, or {@code fallback} when there is none.
   *
   * @param key the key; not {@code null}
   * @param fallback what to return when {@code key} is not bound; may be {@code null}
   * @return the value bound to {@code key} (which may be {@code null}), or {@code fallback}
   * @throws NullPointerException if {@code key} is {@code null}
   */
  @SuppressWarnings("unchecked")
  public @Nullable V getOrDefault(K key, @Nullable V fallback) {
    Objects.requireNonNull(key, "key");
    Object value = find(root, key.hashCode(), key);
    return value == ABSENT ? fallback : (V) value;
  }

  /**
   * {@return whether {@code key} is bound in this map}
   *
   * @param key the key; not {@code null}
   * @throws NullPointerException if {@code key} is {@code null}
   */
  public boolean containsKey(K key) {
    Objects.requireNonNull(key, "key");
    return find(root, key.hashCode(), key) != ABSENT;
  }

  /** {@return the number of entries} It takes constant time. */
  public int size() {
    return size;
  }

  /** {@return whether this map has no entries} */
  public boolean isEmpty() {
    return size == 0;
  }

  /**
   * Returns an unmodifiable {@link Map} view of this map, in constant time. As this map never
   * changes, the view is also a snapshot. Its {@code get} and {@code containsKey} are trie
   * lookups; it compares equal to any {@code Map} with the same entries.
   *
   * @return a read-only {@code Map} with the entries of this map
   */
  public Map<K, V> asMap() {
    // The JDK wrapper makes every mutator throw, also one that would change nothing (as Map.of).
    return Collections.unmodifiableMap(new MapView<>(this));
  }

  /**
   * Returns an iterator over every entry of this map, each exactly once, in no particular order.
   * The iterator walks the trie with an explicit stack of bounded depth (never recursion), does
   * not support {@code remove}, and yields immutable entries.
   *
   * @return an iterator over the entries
   */
  @Override
  public Iterator<Map.Entry<K, V>> iterator() {
    return new EntryIterator<>(root);
  }

  /**
   * Compares this map with another for structural equality.
   *
   * @param obj the object to compare with; may be {@code null}
   * @return {@code true} if {@code obj} is a {@code Hamt} with the same size in which every key of
   *     this map is bound to an equal value (as {@link Map#equals} defines for maps)
   */
  @Override
  public boolean equals(@Nullable Object obj) {
    if (obj == this) {
      return true;
    }
    if (!(obj instanceof Hamt<?, ?> other) || other.size != size) {
      return false;
    }
    if (root == other.root) {
      return true;
    }
    for (Iterator<Map.Entry<K, V>> it = iterator(); it.hasNext(); ) {
      Map.Entry<K, V> entry = it.next();
      K key = entry.getKey();
      Object theirs = find(other.root, key.hashCode(), key);
      if (theirs == ABSENT || !Objects.equals(entry.getValue(), theirs)) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@return the hash code of this map} It is the one a {@link Map} with the same entries has:
   * the sum over the entries of {@code key.hashCode() ^ Objects.hashCode(value)}.
   */
  @Override
  public int hashCode() {
    int h = 0;
    for (Iterator<Map.Entry<K, V>> it = iterator(); it.hasNext(); ) {
      Map.Entry<K, V> entry = it.next();
      h += entry.getKey().hashCode() ^ Objects.hashCode(entry.getValue());
    }
    return h;
  }

  /** {@return the entries in the form {@code {k1=v1, k2=v2}}, in iteration order} */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (Iterator<Map.Entry<K, V>> it = iterator(); it.hasNext(); ) {
      Map.Entry<K, V> entry = it.next();
      Object key = entry.getKey();
      Object value = entry.getValue();
      sb.append(key == this ? "(this Map)" : key)
          .append('=')
          .append(value == this ? "(this Map)" : value);
      if (it.hasNext()) {
        sb.append(", ");
      }
    }
    return sb.append('}').toString();
  }

  /** {@return a description of the node structure, for debugging and tests} */
  String dump() {
    return root == null ? "empty" : root.toString();
  }

  /** Returns the value bound to {@code key}, or {@link #ABSENT}. Walks one path, no recursion. */
  private static Object find(@Nullable Node node, int hash, Object key) {
    int shift = 0;
    while (node != null) {
      if (node instanceof BitmapNode bitmapNode) {
        int bit = bit(hash, shift);
        int bitmap = bitmapNode.bitmap;
        if ((bitmap & bit) == 0) {
          return ABSENT;
        }
        int index = index(bitmap, bit);
        Object[] array = bitmapNode.array;
        Object k = array[index];
        if (k == null) {
          node = (Node) array[index + 1];
          shift += BITS;
          continue;
        }
        // Identity first: context variables compare by identity, and this skips a call.
        return k == key || k.equals(key) ? array[index + 1] : ABSENT;
      }
      return ((CollisionNode) node).find(hash, key);
    }
    return ABSENT;
  }

  private static int bit(int hash, int shift) {
    return 1 << ((hash >>> shift) & MASK);
  }

  private static int index(int bitmap, int bit) {
    return 2 * Integer.bitCount(bitmap & (bit - 1));
  }

  /** A trie node. Nodes are immutable; updates return new nodes that share the old children. */
  private sealed interface Node permits BitmapNode, CollisionNode {

    /** Returns a node with {@code key -> value}; the caller knows the mapping changes. */
    Node with(int shift, int hash, Object key, @Nullable Object value);

    /**
     * Returns a node without {@code key}, or {@code null} if the node became empty; the caller
     * knows the key is present below this node.
     */
    @Nullable
    Node without(int shift, int hash, Object key);

    /** The (key, value) of this node when it holds exactly one entry and no child, else null. */
    Object @Nullable [] singleLeaf();
  }

  private static final class BitmapNode implements Node {
    final int bitmap;
    /** (key, value) or (null, child) pairs, one per set bit of {@link #bitmap}, in bit order. */
    final Object[] array;

    BitmapNode(int bitmap, Object[] array) {
      assert Integer.bitCount(bitmap) * 2 == array.length : "bitmap and array disagree";
      this.bitmap = bitmap;
      this.array = array;
    }

    static BitmapNode leaf(int hash, int shift, Object key, @Nullable Object value) {
      return new BitmapNode(bit(hash, shift), new Object[] {key, value});
    }

    @Override
    public Node with(int shift, int hash, Object key, @Nullable Object value) {
      int bit = bit(hash, shift);
      int index = index(bitmap, bit);
      if ((bitmap & bit) == 0) {
        // Insert: a new leaf in a free slot.
        Object[] newArray = new Object[array.length + 2];
        System.arraycopy(array, 0, newArray, 0, index);
        newArray[index] = key;
        newArray[index + 1] = value;
        System.arraycopy(array, index, newArray, index + 2, array.length - index);
        return new BitmapNode(bitmap | bit, newArray);
      }
      Object k = array[index];
      Object v = array[index + 1];
      if (k == null) {
        // Descend: the slot holds a child.
        Node child = ((Node) v).with(shift + BITS, hash, key, value);
        return withSlot(index, null, child);
      }
      if (k == key || k.equals(key)) {
        // Replace: same key, new value.
        return withSlot(index, k, value);
      }
      // Split: the slot holds another key; push both one level down.
      return withSlot(index, null, pair(shift + BITS, k.hashCode(), k, v, hash, key, value));
    }

    @Override
    public @Nullable Node without(int shift, int hash, Object key) {
      int bit = bit(hash, shift);
      int index = index(bitmap, bit);
      Object k = array[index];
      if (k == null) {
        Node child = ((Node) array[index + 1]).without(shift + BITS, hash, key);
        // A child never becomes empty: the caller saw the key in it, and a node with one entry
        // is inlined here as a leaf rather than left as a child.
        assert child != null;
        Object[] leaf = child.singleLeaf();
        return leaf != null ? withSlot(index, leaf[0], leaf[1]) : withSlot(index, null, child);
      }
      // Remove this leaf.
      if (array.length == 2) {
        return null;
      }
      Object[] newArray = new Object[array.length - 2];
      System.arraycopy(array, 0, newArray, 0, index);
      System.arraycopy(array, index + 2, newArray, index, array.length - index - 2);
      return new BitmapNode(bitmap & ~bit, newArray);
    }

    @Override
    public Object @Nullable [] singleLeaf() {
      return array.length == 2 && array[0] != null ? array : null;
    }

    private BitmapNode withSlot(int index, @Nullable Object key, @Nullable Object value) {
      Object[] newArray = array.clone();
      newArray[index] = key;
      newArray[index + 1] = value;
      return new BitmapNode(bitmap, newArray);
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("Bitmap[").append(Integer.toBinaryString(bitmap));
      for (int i = 0; i < array.length; i += 2) {
        sb.append(' ');
        if (array[i] == null) {
          sb.append(array[i + 1]);
        } else {
          sb.append(array[i]).append('=').append(array[i + 1]);
        }
      }
      return sb.append(']').toString();
    }
  }

  /**
   * Builds the smallest subtree at {@code shift} holding two entries with different keys: a
   * collision node when their hashes are equal, else bitmap nodes down to the first level where
   * their hashes differ.
   */
  private static Node pair(
      int shift,
      int hash1,
      Object key1,
      @Nullable Object value1,
      int hash2,
      Object key2,
      @Nullable Object value2) {
    if (hash1 == hash2) {
      // Hash collision: all 32 bits agree.
      return new CollisionNode(hash1, new Object[] {key1, value1, key2, value2});
    }
    int bit1 = bit(hash1, shift);
    int bit2 = bit(hash2, shift);
    if (bit1 == bit2) {
      // Same slot at this level too: they part further down (at the latest at MAX_SHIFT).
      assert shift < MAX_SHIFT;
      return new BitmapNode(
          bit1, new Object[] {null, pair(shift + BITS, hash1, key1, value1, hash2, key2, value2)});
    }
    Object[] array =
        Integer.compareUnsigned(bit1, bit2) < 0
            ? new Object[] {key1, value1, key2, value2}
            : new Object[] {key2, value2, key1, value1};
    return new BitmapNode(bit1 | bit2, array);
  }

  /** Entries whose keys all have the same full 32-bit hash. Holds at least two entries. */
  private static final class CollisionNode implements Node {
    final int hash;
    /** (key, value) pairs. */
    final Object[] array;

    CollisionNode(int hash, Object[] array) {
      assert array.length >= 4;
      this.hash = hash;
      this.array = array;
    }

    Object find(int hash, Object key) {
      if (hash == this.hash) {
        for (int i = 0; i < array.length; i += 2) {
          Object k = array[i];
          if (k == key || k.equals(key)) {
            return array[i + 1];
          }
        }
      }
      return ABSENT;
    }

    private int indexOf(Object key) {
      for (int i = 0; i < array.length; i += 2) {
        Object k = array[i];
        if (k == key || k.equals(key)) {
          return i;
        }
      }
      return -1;
    }

    @Override
    public Node with(int shift, int hash, Object key, @Nullable Object value) {
      if (hash != this.hash) {
        // Split: a key with another hash arrived here; move this node one level down, beside it.
        BitmapNode parent = new BitmapNode(bit(this.hash, shift), new Object[] {null, this});
        return parent.with(shift, hash, key, value);
      }
      int index = indexOf(key);
      Object[] newArray;
      if (index >= 0) {
        // Replace.
        newArray = array.clone();
        newArray[index + 1] = value;
      } else {
        // Hash collision: one more key with this hash.
        newArray = Arrays.copyOf(array, array.length + 2);
        newArray[array.length] = key;
        newArray[array.length + 1] = value;
      }
      return new CollisionNode(hash, newArray);
    }

    @Override
    public Node without(int shift, int hash, Object key) {
      int index = indexOf(key);
      assert index >= 0;
      if (array.length == 4) {
        // One entry left: a one-leaf bitmap node, which the parent inlines at once (so the bit
        // is never used for lookups; below the last level, where no hash bits remain, any will do).
        int other = index == 0 ? 2 : 0;
        return BitmapNode.leaf(hash, Math.min(shift, MAX_SHIFT), array[other], array[other + 1]);
      }
      Object[] newArray = new Object[array.length - 2];
      System.arraycopy(array, 0, newArray, 0, index);
      System.arraycopy(array, index + 2, newArray, index, array.length - index - 2);
      return new CollisionNode(hash, newArray);
    }

    @Override
    public Object @Nullable [] singleLeaf() {
      return null;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("Collision[").append(Integer.toHexString(hash));
      for (int i = 0; i < array.length; i += 2) {
        sb.append(' ').append(array[i]).append('=').append(array[i + 1]);
      }
      return sb.append(']').toString();
    }
  }

  /** Depth-first walk with an explicit stack of at most {@link #MAX_DEPTH} frames. */
  private static final class EntryIterator<K, V> implements Iterator<Map.Entry<K, V>> {
    private final Object[][] arrays = new Object[MAX_DEPTH][];
    private final int[] positions = new int[MAX_DEPTH];
    private int depth = -1;
    private Map.@Nullable Entry<K, V> next;

    EntryIterator(@Nullable Node root) {
      if (root != null) {
        push(root);
        advance();
      }
    }

    private void push(Node node) {
      depth++;
      arrays[depth] = node instanceof BitmapNode b ? b.array : ((CollisionNode) node).array;
      positions[depth] = 0;
    }

    @SuppressWarnings("unchecked")
    private void advance() {
      while (depth >= 0) {
        Object[] array = arrays[depth];
        int position = positions[depth];
        if (position >= array.length) {
          arrays[depth] = null;
          depth--;
          continue;
        }
        positions[depth] = position + 2;
        Object key = array[position];
        if (key == null) {
          push((Node) array[position + 1]);
        } else {
          next = new AbstractMap.SimpleImmutableEntry<>((K) key, (V) array[position + 1]);
          return;
        }
      }
      next = null;
    }

    @Override
    public boolean hasNext() {
      return next != null;
    }

    @Override
    public Map.Entry<K, V> next() {
      Map.Entry<K, V> result = next;
      if (result == null) {
        throw new NoSuchElementException("no more entries in this Hamt");
      }
      advance();
      return result;
    }
  }
}
