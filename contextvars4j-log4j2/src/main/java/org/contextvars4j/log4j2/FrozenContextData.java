package org.contextvars4j.log4j2;

import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import org.apache.logging.log4j.util.BiConsumer;
import org.apache.logging.log4j.util.ReadOnlyStringMap;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.apache.logging.log4j.util.StringMap;
import org.apache.logging.log4j.util.TriConsumer;
import org.contextvars4j.hamt.Hamt;
import org.jspecify.annotations.Nullable;

/**
 * The value of a {@link ContextThreadContextMap} in one context: an immutable, frozen {@link
 * StringMap}. Every change of the map makes a new value with {@link #with}, {@link #without},
 * {@link #withAll} or {@link #withoutAll}; the {@code StringMap} mutators throw {@link
 * UnsupportedOperationException}, as those of a frozen {@code StringMap} must.
 *
 * <p>Up to {@link #FLAT_LIMIT} entries, the size of nearly every MDC, the entries sit in one array
 * of (key, value) pairs sorted by key: a change copies that array (one allocation besides the new
 * value), a lookup scans it. Above the limit they move to a persistent {@link Hamt} ({@code
 * O(log32 n)} per changed key), and back to an array once removals leave {@link #FLATTEN_AT}.
 *
 * <p>Immutable and thread-safe: a log event keeps it as its context data without a copy, and
 * passes it to any thread.
 */
final class FrozenContextData implements StringMap {

  /*
   * Implementation notes.
   *
   * A value is never changed after its construction, which is what lets log4j-core's
   * ForCopyOnWriteThreadContextMap injector hand the very object to a log event (no copy per
   * event), and what lets a Context copy share it.
   *
   * Two forms. Flat: `pairs` holds key0, value0, key1, value1, ... with the keys in String order,
   * and `trie` is null. Trie: `trie` holds the entries and `pairs` is null. Which form a value has
   * depends on its size and history: flat at most FLAT_LIMIT entries; a trie more than FLATTEN_AT.
   * Between the two (9 to 16 entries) a map keeps the form it came with, so that a map that puts
   * and removes one key at the boundary does not convert at every change. No method's result
   * depends on the form, only its cost.
   *
   * Why flat, and why sorted. An MDC holds a handful of keys and changes once or twice a request;
   * a trie change there copies two or three nodes (a with and a without of "k" on a map holding
   * "request_id", whose hashes share their first 5 bits, allocate about 224 bytes), where a copy
   * of a 16-pair array is 144 bytes and no hashing. The keys are kept in String order because
   * Log4j's own StringMaps (SortedArrayStringMap, JdkMapAdapterStringMap) iterate in key order, so
   * %X and %mdc print the same text with this map as with Log4j's: kept sorted, the flat array is
   * its own iteration order, and no sorted copy is ever made for it.
   *
   * Lookups (measured with JMH at 1, 5 and 16 entries, looking up each key once): a pass that
   * compares identity only, then one that compares with equals. MDC keys are mostly constants, so
   * the key looked up is usually the very String that was put, and the identity pass finds it in
   * 3 to 7 ns where a binary search of compareTo's takes 5 to 21; with an equal but distinct key,
   * or an absent one, the two passes cost what a binary search does or less (10 to 47 ns against
   * 21 to 46). A change needs the insertion point of an absent key, so `with` follows the
   * identity pass with a binary search instead.
   *
   * The limit, 16, measured with MdcBenchmark (short runs: put + remove of one key, and a get of
   * "request_id", which sorts after the other keys, so the identity pass walks the whole array),
   * flat against trie at each size:
   *
   *   entries              8          16          24          32          48
   *   put + remove ns  163 / 240   144 / 257   191 / 275   186 / 262   259 / 269
   *   put + remove B   260 / 452   388 / 516   516 / 596   644 / 596   900 / 628
   *   get ns            16 / 17     17 / 17     25 / 19     31 / 17     35 / 20
   *
   * Up to 16 the array reads as fast as the trie and changes faster, with less garbage; above it a
   * get falls behind, from about 28 entries a change allocates more than the trie's, and both grow
   * with the size while the trie's costs stay level. So the trie stays, for the rare large map.
   * FLATTEN_AT, half the limit, keeps a map that goes back and forth across 16 in one form (so
   * MdcBenchmark at 16 entries, whose put makes 17, measures the trie).
   *
   * Two derived forms are cached lazily, on first use: a trie's entries sorted by key, for forEach,
   * toString and the other whole-map reads (a flat map is its own sorted form); and the
   * Map<String, String> view of getImmutableMapOrNull. A request typically puts once and logs many
   * times, so each cache is computed once per value and then read by every event. The caches are
   * plain fields, racy on purpose like String.hash: two threads may each compute one, the results
   * are equal, and each is published through final fields only (Sorted's, and those of the JDK's
   * unmodifiable map and of PairsMap), so a racing reader sees it whole. The same holds for
   * `pairs`, a final field whose array is filled before the constructor runs and never written
   * after.
   *
   * Values are Strings, except those that ObjectThreadContextMap.putValue stores. nonStrings
   * counts the others, so that the common all-String case can hand out a view of the pairs
   * themselves as a Map<String, String>, and only a map with other values pays for a converted
   * copy.
   */

  private static final long serialVersionUID = 1L;

  /**
   * The most entries kept flat; one more moves them to a trie. At most 64: {@link #withoutAll}
   * marks a flat map's entries in the bits of one {@code long}.
   */
  static final int FLAT_LIMIT = 16;

  /** The size at which a removal from a trie moves the entries back to a flat array. */
  static final int FLATTEN_AT = FLAT_LIMIT / 2;

  private static final Object[] NO_PAIRS = {};

  /** The empty map, shared: the value of the map in a context where nothing was put. */
  static final FrozenContextData EMPTY = new FrozenContextData(NO_PAIRS, 0);

  /** Marks "no entry" in trie lookups, where {@code null} is a value. */
  private static final Object ABSENT = new Object();

  // Transient: the value is serialised as a SortedArrayStringMap (writeReplace), never as itself.

  /** The flat form: (key, value) pairs, keys in order; {@code null} when the entries are a trie. */
  private final transient Object @Nullable [] pairs;

  /** The trie form; {@code null} when the entries are flat. */
  private final transient @Nullable Hamt<String, @Nullable Object> trie;

  /** The number of values that are neither {@code null} nor a {@code String}. */
  private final transient int nonStrings;

  /** A trie's entries in key order, made on first use (racy, see above); unused when flat. */
  private transient @Nullable Sorted sorted;

  /** The unmodifiable {@code Map<String, String>} form, made on first use (racy, see above). */
  private transient @Nullable Map<String, @Nullable String> view;

  private FrozenContextData(Object[] pairs, int nonStrings) {
    assert pairs.length <= 2 * FLAT_LIMIT : "a flat map of " + pairs.length / 2 + " entries";
    this.pairs = pairs;
    this.trie = null;
    this.nonStrings = nonStrings;
  }

  private FrozenContextData(Hamt<String, @Nullable Object> trie, int nonStrings) {
    this.pairs = null;
    this.trie = trie;
    this.nonStrings = nonStrings;
  }

  /* ---- lookups in the flat form ---- */

  /** {@return the index of {@code key} in {@code pairs}, or -1} Identity first (see above). */
  private static int indexOf(Object[] pairs, String key) {
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i] == key) {
        return i;
      }
    }
    for (int i = 0; i < pairs.length; i += 2) {
      if (key.equals(pairs[i])) {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@return the index of {@code key} among the first {@code length} slots of {@code pairs}, or
   * {@code -(insertion index) - 1}} Identity first, then a binary search by {@code compareTo}.
   */
  private static int search(Object[] pairs, int length, String key) {
    for (int i = 0; i < length; i += 2) {
      if (pairs[i] == key) {
        return i;
      }
    }
    int low = 0;
    int high = (length >>> 1) - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int order = ((String) pairs[2 * mid]).compareTo(key);
      if (order < 0) {
        low = mid + 1;
      } else if (order > 0) {
        high = mid - 1;
      } else {
        return 2 * mid;
      }
    }
    return -(2 * low) - 1;
  }

  /* ---- persistent updates (the caller has checked the arguments) ---- */

  /** Returns a map with {@code key -> value} that otherwise equals this one; {@code this} if so. */
  FrozenContextData with(String key, @Nullable Object value) {
    Object[] flat = pairs;
    if (flat == null) {
      return withInTrie(key, value);
    }
    int at = search(flat, flat.length, key);
    if (at >= 0) {
      // Replace: same key, new value (or the identical value: no change, as Hamt.with does).
      Object old = flat[at + 1];
      if (old == value) {
        return this;
      }
      Object[] copy = flat.clone();
      copy[at + 1] = value;
      return new FrozenContextData(copy, nonStrings + weight(value) - weight(old));
    }
    int count = nonStrings + weight(value);
    if (flat.length == 2 * FLAT_LIMIT) {
      // Grow: one entry past the limit, the whole map moves to a trie.
      return new FrozenContextData(trieOf(flat, flat.length).with(key, value), count);
    }
    // Insert at the key's place in the order.
    int insert = -at - 1;
    Object[] copy = new Object[flat.length + 2];
    System.arraycopy(flat, 0, copy, 0, insert);
    copy[insert] = key;
    copy[insert + 1] = value;
    System.arraycopy(flat, insert, copy, insert + 2, flat.length - insert);
    return new FrozenContextData(copy, count);
  }

  private FrozenContextData withInTrie(String key, @Nullable Object value) {
    Hamt<String, @Nullable Object> entries = trie();
    int count = nonStrings;
    if (count != 0 || isNonString(value)) {
      // Only a map that holds (or gets) a non-String value needs the old value to keep the count.
      count += weight(value) - weight(entries.getOrDefault(key, ABSENT));
    }
    Hamt<String, @Nullable Object> changed = entries.with(key, value);
    return changed == entries ? this : new FrozenContextData(changed, count);
  }

  /** Returns a map without {@code key} that otherwise equals this one; {@code this} if so. */
  FrozenContextData without(String key) {
    Object[] flat = pairs;
    if (flat == null) {
      return withoutInTrie(key);
    }
    int at = indexOf(flat, key);
    if (at < 0) {
      return this;
    }
    if (flat.length == 2) {
      return EMPTY;
    }
    Object[] copy = new Object[flat.length - 2];
    System.arraycopy(flat, 0, copy, 0, at);
    System.arraycopy(flat, at + 2, copy, at, flat.length - at - 2);
    return new FrozenContextData(copy, nonStrings - weight(flat[at + 1]));
  }

  private FrozenContextData withoutInTrie(String key) {
    Hamt<String, @Nullable Object> entries = trie();
    int count = nonStrings;
    if (count != 0) {
      count -= weight(entries.getOrDefault(key, ABSENT));
    }
    Hamt<String, @Nullable Object> changed = entries.without(key);
    if (changed == entries) {
      return this;
    }
    return changed.size() <= FLATTEN_AT
        ? flat(changed, count)
        : new FrozenContextData(changed, count);
  }

  /**
   * Returns a map with every entry of {@code map} added, else like this one. Checks every key
   * before it returns, so that a {@code null} key fails the whole call and changes nothing.
   */
  FrozenContextData withAll(Map<String, ?> map) {
    if (map.isEmpty()) {
      return this;
    }
    Object[] flat = pairs;
    if (flat != null && map.size() <= FLAT_LIMIT) {
      return withAllFlat(flat, map);
    }
    // A trie already, or more entries than a flat map holds: one trie change per entry.
    Hamt<String, @Nullable Object> start = flat == null ? trie() : trieOf(flat, flat.length);
    Hamt<String, @Nullable Object> result = start;
    int count = nonStrings;
    for (Map.Entry<String, ?> entry : map.entrySet()) {
      String key = ContextThreadContextMap.requireKey(entry.getKey());
      Object value = entry.getValue();
      if (count != 0 || isNonString(value)) {
        count += weight(value) - weight(result.getOrDefault(key, ABSENT));
      }
      result = result.with(key, value);
    }
    if (result == start) {
      return this;
    }
    // A flat map stays flat if it can (the map's size() overstated its entries, or they were ours).
    return flat != null && result.size() <= FLAT_LIMIT
        ? flat(result, count)
        : new FrozenContextData(result, count);
  }

  /** {@link #withAll} of at most {@link #FLAT_LIMIT} entries into the flat {@code flat}. */
  private FrozenContextData withAllFlat(Object[] flat, Map<String, ?> map) {
    // One private working copy, with room for every entry: sorted inserts into it, no copy each.
    Object[] work = Arrays.copyOf(flat, flat.length + 2 * map.size());
    int length = flat.length;
    int count = nonStrings;
    boolean changed = false;
    for (Map.Entry<String, ?> entry : map.entrySet()) {
      String key = ContextThreadContextMap.requireKey(entry.getKey());
      Object value = entry.getValue();
      int at = search(work, length, key);
      if (at >= 0) {
        Object old = work[at + 1];
        if (old != value) {
          work[at + 1] = value;
          count += weight(value) - weight(old);
          changed = true;
        }
        continue;
      }
      if (length == work.length) {
        // More entries than size() said: a concurrent map that grew while it was read.
        work = Arrays.copyOf(work, 2 * length + 2);
      }
      int insert = -at - 1;
      System.arraycopy(work, insert, work, insert + 2, length - insert);
      work[insert] = key;
      work[insert + 1] = value;
      length += 2;
      count += weight(value);
      changed = true;
    }
    if (!changed) {
      return this;
    }
    if (length > 2 * FLAT_LIMIT) {
      return new FrozenContextData(trieOf(work, length), count);
    }
    return new FrozenContextData(length == work.length ? work : Arrays.copyOf(work, length), count);
  }

  /** Returns a map without any of {@code keys} (a {@code null} key is never bound). */
  FrozenContextData withoutAll(Iterable<? extends @Nullable String> keys) {
    Object[] flat = pairs;
    if (flat == null) {
      return withoutAllInTrie(keys);
    }
    // Bit i marks pair i to go: a flat map has at most FLAT_LIMIT <= 64 entries.
    long gone = 0;
    for (String key : keys) {
      if (key != null) {
        int at = indexOf(flat, key);
        if (at >= 0) {
          gone |= 1L << (at >>> 1);
        }
      }
    }
    if (gone == 0) {
      return this;
    }
    int left = (flat.length >>> 1) - Long.bitCount(gone);
    if (left == 0) {
      return EMPTY;
    }
    Object[] copy = new Object[2 * left];
    int count = nonStrings;
    for (int i = 0, j = 0; i < flat.length; i += 2) {
      if ((gone & (1L << (i >>> 1))) == 0) {
        copy[j] = flat[i];
        copy[j + 1] = flat[i + 1];
        j += 2;
      } else {
        count -= weight(flat[i + 1]);
      }
    }
    return new FrozenContextData(copy, count);
  }

  private FrozenContextData withoutAllInTrie(Iterable<? extends @Nullable String> keys) {
    Hamt<String, @Nullable Object> entries = trie();
    Hamt<String, @Nullable Object> result = entries;
    int count = nonStrings;
    for (String key : keys) {
      if (key != null) {
        if (count != 0) {
          count -= weight(result.getOrDefault(key, ABSENT));
        }
        result = result.without(key);
      }
    }
    if (result == entries) {
      return this;
    }
    return result.size() <= FLATTEN_AT ? flat(result, count) : new FrozenContextData(result, count);
  }

  /* ---- between the forms ---- */

  /** {@return whether the entries are in the flat form} For tests: no result depends on it. */
  boolean isFlat() {
    return pairs != null;
  }

  /** {@return the trie; only called when {@link #pairs} is {@code null}} */
  private Hamt<String, @Nullable Object> trie() {
    assert trie != null : "neither pairs nor a trie";
    return trie;
  }

  /** {@return a trie of the first {@code length} slots of {@code pairs}} */
  private static Hamt<String, @Nullable Object> trieOf(Object[] pairs, int length) {
    Hamt<String, @Nullable Object> result = Hamt.empty();
    for (int i = 0; i < length; i += 2) {
      result = result.with((String) pairs[i], pairs[i + 1]);
    }
    return result;
  }

  /** {@return the flat map of {@code entries}, {@link #EMPTY} if none} */
  private static FrozenContextData flat(Hamt<String, @Nullable Object> entries, int count) {
    return entries.isEmpty() ? EMPTY : new FrozenContextData(sortedPairs(entries), count);
  }

  /** {@return the entries of {@code entries} as (key, value) pairs in key order} */
  private static Object[] sortedPairs(Hamt<String, @Nullable Object> entries) {
    String[] keys = new String[entries.size()];
    int i = 0;
    for (Iterator<Map.Entry<String, @Nullable Object>> it = entries.iterator(); it.hasNext(); ) {
      keys[i++] = it.next().getKey();
    }
    Arrays.sort(keys);
    Object[] result = new Object[2 * keys.length];
    for (i = 0; i < keys.length; i++) {
      result[2 * i] = keys[i];
      result[2 * i + 1] = entries.get(keys[i]);
    }
    return result;
  }

  /**
   * {@return the (key, value) pairs in key order; not to be changed} The flat array itself, or a
   * trie's entries sorted once per value.
   */
  private Object[] sorted() {
    Object[] flat = pairs;
    if (flat != null) {
      return flat;
    }
    Sorted result = sorted;
    if (result == null) {
      result = new Sorted(sortedPairs(trie()));
      sorted = result;
    }
    return result.pairs;
  }

  /** A trie's pairs in key order; a final field, so safe to publish through a race. */
  private record Sorted(Object[] pairs) {}

  private static boolean isNonString(@Nullable Object value) {
    return value != null && !(value instanceof String);
  }

  /** 1 for a value that counts in {@link #nonStrings}; 0 for a String, null, or ABSENT. */
  private static int weight(@Nullable Object value) {
    return value != ABSENT && isNonString(value) ? 1 : 0;
  }

  /** The text of a value, as Log4j's {@code SortedArrayStringMap.toMap()} makes it. */
  static @Nullable String text(@Nullable Object value) {
    return value == null ? null : value.toString();
  }

  /** {@return the value of {@code key}, {@code null} if absent} */
  private @Nullable Object get(String key) {
    Object[] flat = pairs;
    if (flat != null) {
      int at = indexOf(flat, key);
      return at >= 0 ? flat[at + 1] : null;
    }
    return trie().get(key);
  }

  /* ---- what ContextThreadContextMap reads ---- */

  /** {@return the value of {@code key} as text, {@code null} if absent or null} */
  @Nullable String getText(@Nullable String key) {
    return key == null ? null : text(get(key));
  }

  /**
   * {@return the entries as an unmodifiable {@code Map<String, String>}, in key order} A view of
   * the sorted pairs when every value is a {@code String} (or {@code null}); otherwise a converted
   * copy. Cached.
   */
  Map<String, @Nullable String> asStringMap() {
    Map<String, @Nullable String> result = view;
    if (result == null) {
      Object[] entries = sorted();
      result =
          Collections.unmodifiableMap(new PairsMap(nonStrings == 0 ? entries : asText(entries)));
      view = result;
    }
    return result;
  }

  /** {@return a copy of {@code entries} with the values as text} */
  private static Object[] asText(Object[] entries) {
    Object[] copy = entries.clone();
    for (int i = 1; i < copy.length; i += 2) {
      copy[i] = text(copy[i]);
    }
    return copy;
  }

  /**
   * A {@code Map} over (key, value) pairs in key order whose values are all Strings or null; the
   * pairs never change, so the map is a snapshot for free. {@link #asStringMap} makes it
   * unmodifiable.
   */
  private static final class PairsMap extends AbstractMap<String, @Nullable String> {
    private final Object[] pairs;

    PairsMap(Object[] pairs) {
      this.pairs = pairs;
    }

    @Override
    public int size() {
      return pairs.length >>> 1;
    }

    @Override
    public boolean containsKey(@Nullable Object key) {
      return key instanceof String name && search(pairs, pairs.length, name) >= 0;
    }

    @Override
    public @Nullable String get(@Nullable Object key) {
      return getOrDefault(key, null);
    }

    @Override
    public @Nullable String getOrDefault(@Nullable Object key, @Nullable String fallback) {
      if (!(key instanceof String name)) {
        return fallback; // keys of another type are simply absent
      }
      int at = search(pairs, pairs.length, name);
      return at >= 0 ? (String) pairs[at + 1] : fallback;
    }

    @Override
    public Set<Map.Entry<String, @Nullable String>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Map.Entry<String, @Nullable String>> iterator() {
          return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
              return next < pairs.length;
            }

            @Override
            public Map.Entry<String, @Nullable String> next() {
              if (next >= pairs.length) {
                throw new NoSuchElementException();
              }
              Map.Entry<String, @Nullable String> entry =
                  new SimpleImmutableEntry<>((String) pairs[next], (String) pairs[next + 1]);
              next += 2;
              return entry;
            }
          };
        }

        @Override
        public int size() {
          return pairs.length >>> 1;
        }
      };
    }
  }

  /* ---- ReadOnlyStringMap ---- */

  /** {@return a new mutable {@code HashMap} with the entries, values as text} */
  @Override
  public Map<String, String> toMap() {
    Object[] entries = sorted();
    HashMap<String, @Nullable String> copy = HashMap.newHashMap(entries.length >>> 1);
    for (int i = 0; i < entries.length; i += 2) {
      copy.put((String) entries[i], text(entries[i + 1]));
    }
    return copy; // values may be null, as in the maps Log4j's own toMap() returns
  }

  @Override
  public boolean containsKey(@Nullable String key) {
    if (key == null) {
      return false;
    }
    Object[] flat = pairs;
    return flat != null ? indexOf(flat, key) >= 0 : trie().containsKey(key);
  }

  /** Calls {@code action} for every entry, in key order, as Log4j's own maps do. */
  @Override
  @SuppressWarnings("unchecked") // the caller's V, as in every ReadOnlyStringMap
  public <V> void forEach(BiConsumer<String, ? super V> action) {
    Object[] entries = sorted();
    for (int i = 0; i < entries.length; i += 2) {
      action.accept((String) entries[i], (V) entries[i + 1]);
    }
  }

  /** Calls {@code action} for every entry, in key order, with {@code state}. */
  @Override
  @SuppressWarnings("unchecked") // the caller's V, as in every ReadOnlyStringMap
  public <V, S> void forEach(TriConsumer<String, ? super V, S> action, S state) {
    Object[] entries = sorted();
    for (int i = 0; i < entries.length; i += 2) {
      action.accept((String) entries[i], (V) entries[i + 1], state);
    }
  }

  @Override
  @SuppressWarnings("unchecked") // the caller's V, as in every ReadOnlyStringMap
  public <V> @Nullable V getValue(@Nullable String key) {
    return key == null ? null : (V) get(key);
  }

  @Override
  public boolean isEmpty() {
    return size() == 0;
  }

  @Override
  public int size() {
    Object[] flat = pairs;
    return flat != null ? flat.length >>> 1 : trie().size();
  }

  /* ---- StringMap: frozen ---- */

  @Override
  public void clear() {
    throw frozen("clear");
  }

  /** Does nothing: this map is frozen from its construction. */
  @Override
  public void freeze() {}

  @Override
  public boolean isFrozen() {
    return true;
  }

  @Override
  public void putAll(ReadOnlyStringMap source) {
    throw frozen("putAll");
  }

  @Override
  public void putValue(String key, @Nullable Object value) {
    throw frozen("putValue");
  }

  @Override
  public void remove(String key) {
    throw frozen("remove");
  }

  private static UnsupportedOperationException frozen(String method) {
    return new UnsupportedOperationException(
        "This StringMap is a frozen snapshot of the ThreadContext in a contextvars4j Context, so "
            + method
            + "() cannot change it: change the ThreadContext itself (ThreadContext.put, remove,"
            + " ...), or copy this map first (new SortedArrayStringMap(map))");
  }

  /* ---- Object ---- */

  /**
   * Compares by content with any {@link ReadOnlyStringMap}, as Log4j's own {@code StringMap}s do:
   * equal when both have the same keys with the same values as text ({@code toMap()} equality),
   * without copying either map.
   */
  @Override
  public boolean equals(@Nullable Object obj) {
    if (obj == this) {
      return true;
    }
    if (!(obj instanceof ReadOnlyStringMap other) || other.size() != size()) {
      return false;
    }
    Object[] entries = sorted();
    for (int i = 0; i < entries.length; i += 2) {
      String key = (String) entries[i];
      if (!other.containsKey(key)
          || !Objects.equals(text(entries[i + 1]), text(other.getValue(key)))) {
        return false;
      }
    }
    return true;
  }

  /** {@return the hash code of {@link #toMap()}, as Log4j's own {@code StringMap}s compute it} */
  @Override
  public int hashCode() {
    Object[] entries = sorted();
    int hash = 0;
    for (int i = 0; i < entries.length; i += 2) {
      hash += entries[i].hashCode() ^ Objects.hashCode(text(entries[i + 1]));
    }
    return hash;
  }

  /** {@return the entries in key order, as {@code {k1=v1, k2=v2}}} */
  @Override
  public String toString() {
    Object[] entries = sorted();
    StringBuilder sb = new StringBuilder(8 * entries.length + 2).append('{');
    for (int i = 0; i < entries.length; i += 2) {
      if (i > 0) {
        sb.append(", ");
      }
      Object value = entries[i + 1];
      sb.append(entries[i]).append('=').append(value == this ? "(this map)" : value);
    }
    return sb.append('}').toString();
  }

  /* ---- serialisation: as a frozen SortedArrayStringMap, which Log4j's filters accept ---- */

  private Object writeReplace() {
    Object[] entries = sorted();
    SortedArrayStringMap copy = new SortedArrayStringMap(entries.length >>> 1);
    for (int i = 0; i < entries.length; i += 2) {
      copy.putValue((String) entries[i], entries[i + 1]); // in key order: each one appends
    }
    copy.freeze();
    return copy;
  }

  private void readObject(ObjectInputStream in) throws InvalidObjectException {
    throw new InvalidObjectException(
        "FrozenContextData is serialised as a SortedArrayStringMap, never as itself");
  }
}
