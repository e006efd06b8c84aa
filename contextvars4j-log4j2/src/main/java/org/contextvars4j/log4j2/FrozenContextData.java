package org.contextvars4j.log4j2;

import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import org.apache.logging.log4j.util.BiConsumer;
import org.apache.logging.log4j.util.ReadOnlyStringMap;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.apache.logging.log4j.util.StringMap;
import org.apache.logging.log4j.util.TriConsumer;
import org.contextvars4j.hamt.Hamt;
import org.jspecify.annotations.Nullable;

/**
 * The value of a {@link ContextThreadContextMap} in one context: an immutable, frozen {@link
 * StringMap} over a persistent {@link Hamt}. Every change of the map makes a new value with {@link
 * #with}, {@link #without}, {@link #withAll} or {@link #withoutAll}, in {@code O(log32 n)} per
 * changed key; the {@code StringMap} mutators throw {@link UnsupportedOperationException}, as
 * those of a frozen {@code StringMap} must.
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
   * Two derived forms are cached lazily, on first use: the entries sorted by key, for forEach and
   * toString, because Log4j's own StringMaps (SortedArrayStringMap, JdkMapAdapterStringMap) iterate
   * in key order, so %X and %mdc print the same text with this map as with Log4j's; and the
   * Map<String, String> view of getImmutableMapOrNull. A request typically puts once and logs many
   * times, so each cache is computed once per value and then read by every event. The caches are
   * plain fields, racy on purpose like String.hash: two threads may each compute one, the results
   * are equal, and each is published through final fields only (Sorted's, and those of the JDK's
   * unmodifiable map and of Hamt's view), so a racing reader sees it whole.
   *
   * Values are Strings, except those that ObjectThreadContextMap.putValue stores. nonStrings
   * counts the others, so that the common all-String case can hand out the Hamt's own Map view as
   * a Map<String, String>, and only a map with other values pays for converted copies.
   */

  private static final long serialVersionUID = 1L;

  /** The empty map, shared: the value of the map in a context where nothing was put. */
  static final FrozenContextData EMPTY = new FrozenContextData(Hamt.empty(), 0);

  /** Marks "no entry" in lookups, where {@code null} is a value. */
  private static final Object ABSENT = new Object();

  // Transient: the value is serialised as a SortedArrayStringMap (writeReplace), never as itself.
  private final transient Hamt<String, @Nullable Object> entries;

  /** The number of values that are neither {@code null} nor a {@code String}. */
  private final transient int nonStrings;

  /** The entries in key order, made on first use (racy, see above). */
  private transient @Nullable Sorted sorted;

  /** The unmodifiable {@code Map<String, String>} form, made on first use (racy, see above). */
  private transient @Nullable Map<String, @Nullable String> view;

  private FrozenContextData(Hamt<String, @Nullable Object> entries, int nonStrings) {
    this.entries = entries;
    this.nonStrings = nonStrings;
  }

  /* ---- persistent updates (the caller has checked the arguments) ---- */

  /** Returns a map with {@code key -> value} that otherwise equals this one; {@code this} if so. */
  FrozenContextData with(String key, @Nullable Object value) {
    int count = nonStrings;
    if (count != 0 || isNonString(value)) {
      // Only a map that holds (or gets) a non-String value needs the old value to keep the count.
      count += weight(value) - weight(entries.getOrDefault(key, ABSENT));
    }
    return of(entries.with(key, value), count);
  }

  /** Returns a map without {@code key} that otherwise equals this one; {@code this} if so. */
  FrozenContextData without(String key) {
    int count = nonStrings;
    if (count != 0) {
      count -= weight(entries.getOrDefault(key, ABSENT));
    }
    return of(entries.without(key), count);
  }

  /**
   * Returns a map with every entry of {@code map} added, else like this one. Checks every key
   * before it returns, so that a {@code null} key fails the whole call and changes nothing.
   */
  FrozenContextData withAll(Map<String, ?> map) {
    Hamt<String, @Nullable Object> result = entries;
    int count = nonStrings;
    for (Map.Entry<String, ?> entry : map.entrySet()) {
      String key = ContextThreadContextMap.requireKey(entry.getKey());
      Object value = entry.getValue();
      if (count != 0 || isNonString(value)) {
        count += weight(value) - weight(result.getOrDefault(key, ABSENT));
      }
      result = result.with(key, value);
    }
    return of(result, count);
  }

  /** Returns a map without any of {@code keys} (a {@code null} key is never bound). */
  FrozenContextData withoutAll(Iterable<? extends @Nullable String> keys) {
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
    return of(result, count);
  }

  private FrozenContextData of(Hamt<String, @Nullable Object> result, int count) {
    if (result == entries) {
      return this;
    }
    return result.isEmpty() ? EMPTY : new FrozenContextData(result, count);
  }

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

  /* ---- what ContextThreadContextMap reads ---- */

  /** {@return the value of {@code key} as text, {@code null} if absent or null} */
  @Nullable String getText(@Nullable String key) {
    return key == null ? null : text(entries.get(key));
  }

  /**
   * {@return the entries as an unmodifiable {@code Map<String, String>}} A view of the trie when
   * every value is a {@code String} (or {@code null}); otherwise a converted copy. Cached.
   */
  Map<String, @Nullable String> asStringMap() {
    Map<String, @Nullable String> result = view;
    if (result == null) {
      result = nonStrings == 0 ? stringsView(entries) : Collections.unmodifiableMap(toMap());
      view = result;
    }
    return result;
  }

  @SuppressWarnings("unchecked") // every value is a String or null: nonStrings == 0
  private static Map<String, @Nullable String> stringsView(Hamt<String, @Nullable Object> entries) {
    Map<String, ?> map = entries.asMap();
    return (Map<String, @Nullable String>) map;
  }

  /* ---- ReadOnlyStringMap ---- */

  /** {@return a new mutable {@code HashMap} with the entries, values as text} */
  @Override
  public Map<String, String> toMap() {
    HashMap<String, @Nullable String> copy = HashMap.newHashMap(entries.size());
    for (Map.Entry<String, @Nullable Object> entry : entries) {
      copy.put(entry.getKey(), text(entry.getValue()));
    }
    return copy; // values may be null, as in the maps Log4j's own toMap() returns
  }

  @Override
  public boolean containsKey(@Nullable String key) {
    return key != null && entries.containsKey(key);
  }

  /** Calls {@code action} for every entry, in key order, as Log4j's own maps do. */
  @Override
  @SuppressWarnings("unchecked") // the caller's V, as in every ReadOnlyStringMap
  public <V> void forEach(BiConsumer<String, ? super V> action) {
    Sorted s = sorted();
    for (int i = 0; i < s.keys.length; i++) {
      action.accept(s.keys[i], (V) s.values[i]);
    }
  }

  /** Calls {@code action} for every entry, in key order, with {@code state}. */
  @Override
  @SuppressWarnings("unchecked") // the caller's V, as in every ReadOnlyStringMap
  public <V, S> void forEach(TriConsumer<String, ? super V, S> action, S state) {
    Sorted s = sorted();
    for (int i = 0; i < s.keys.length; i++) {
      action.accept(s.keys[i], (V) s.values[i], state);
    }
  }

  @Override
  @SuppressWarnings("unchecked") // the caller's V, as in every ReadOnlyStringMap
  public <V> @Nullable V getValue(@Nullable String key) {
    return key == null ? null : (V) entries.get(key);
  }

  @Override
  public boolean isEmpty() {
    return entries.isEmpty();
  }

  @Override
  public int size() {
    return entries.size();
  }

  private Sorted sorted() {
    Sorted result = sorted;
    if (result == null) {
      result = new Sorted(entries);
      sorted = result;
    }
    return result;
  }

  /** The entries in key order; final fields, so safe to publish through a race. */
  private static final class Sorted {
    final String[] keys;
    final @Nullable Object[] values;

    Sorted(Hamt<String, @Nullable Object> entries) {
      int size = entries.size();
      String[] sortedKeys = new String[size];
      int i = 0;
      for (Iterator<Map.Entry<String, @Nullable Object>> it = entries.iterator(); it.hasNext(); ) {
        sortedKeys[i++] = it.next().getKey();
      }
      Arrays.sort(sortedKeys);
      @Nullable Object[] sortedValues = new Object[size];
      for (i = 0; i < size; i++) {
        sortedValues[i] = entries.get(sortedKeys[i]);
      }
      this.keys = sortedKeys;
      this.values = sortedValues;
    }
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
    for (Map.Entry<String, @Nullable Object> entry : entries) {
      String key = entry.getKey();
      if (!other.containsKey(key)
          || !Objects.equals(text(entry.getValue()), text(other.getValue(key)))) {
        return false;
      }
    }
    return true;
  }

  /** {@return the hash code of {@link #toMap()}, as Log4j's own {@code StringMap}s compute it} */
  @Override
  public int hashCode() {
    int hash = 0;
    for (Map.Entry<String, @Nullable Object> entry : entries) {
      hash += entry.getKey().hashCode() ^ Objects.hashCode(text(entry.getValue()));
    }
    return hash;
  }

  /** {@return the entries in key order, as {@code {k1=v1, k2=v2}}} */
  @Override
  public String toString() {
    Sorted s = sorted();
    StringBuilder sb = new StringBuilder(16 * s.keys.length + 2).append('{');
    for (int i = 0; i < s.keys.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      Object value = s.values[i];
      sb.append(s.keys[i]).append('=').append(value == this ? "(this map)" : value);
    }
    return sb.append('}').toString();
  }

  /* ---- serialisation: as a frozen SortedArrayStringMap, which Log4j's filters accept ---- */

  private Object writeReplace() {
    SortedArrayStringMap copy = new SortedArrayStringMap(size());
    for (Map.Entry<String, @Nullable Object> entry : entries) {
      copy.putValue(entry.getKey(), entry.getValue());
    }
    copy.freeze();
    return copy;
  }

  private void readObject(ObjectInputStream in) throws InvalidObjectException {
    throw new InvalidObjectException(
        "FrozenContextData is serialised as a SortedArrayStringMap, never as itself");
  }
}
