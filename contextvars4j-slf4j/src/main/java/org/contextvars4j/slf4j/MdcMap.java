package org.contextvars4j.slf4j;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import org.contextvars4j.hamt.Hamt;
import org.jspecify.annotations.Nullable;

/**
 * The MDC map a {@link ContextMDCAdapter} keeps in its variable: immutable, and itself the
 * unmodifiable {@link Map} that readers get, so a read-only view costs nothing.
 *
 * <p>An MDC holds a handful of keys, put and removed once or twice a request. Up to {@link
 * #FLAT_LIMIT} entries they sit in one flat array of (key, value) pairs: a change copies that
 * array (one allocation besides this object), a lookup scans it, comparing identity first. Above
 * the limit the entries move to a {@link Hamt} (a change copies one trie path, a lookup walks one),
 * and back to an array once a removal leaves half the limit, so that a map at the boundary does
 * not switch at every change.
 */
final class MdcMap extends AbstractMap<String, @Nullable String> {
  /** The most entries kept flat: a scan of 16 keys still beats a trie lookup and its copies. */
  static final int FLAT_LIMIT = 16;

  static final MdcMap EMPTY = new MdcMap(new Object[0]);

  /** (key, value) pairs while flat; {@code null} once the entries are in {@link #trie}. */
  private final Object @Nullable [] pairs;

  private final @Nullable Hamt<String, @Nullable String> trie;

  private MdcMap(Object[] pairs) {
    this.pairs = pairs;
    this.trie = null;
  }

  private MdcMap(Hamt<String, @Nullable String> trie) {
    this.pairs = null;
    this.trie = trie;
  }

  /** {@return the index of {@code key}'s pair in {@code flat}, or -1} */
  private static int indexOf(Object[] flat, String key) {
    for (int i = 0; i < flat.length; i += 2) {
      Object k = flat[i];
      if (k == key || key.equals(k)) {
        return i;
      }
    }
    return -1;
  }

  /** {@return this map with {@code key} bound to {@code value}; {@code this} if it already is} */
  MdcMap with(String key, @Nullable String value) {
    Object[] flat = pairs;
    if (flat == null) {
      Hamt<String, @Nullable String> changed = trie.with(key, value);
      return changed == trie ? this : new MdcMap(changed);
    }
    int at = indexOf(flat, key);
    if (at >= 0) {
      if (flat[at + 1] == value) {
        return this;
      }
      Object[] copy = flat.clone();
      copy[at + 1] = value;
      return new MdcMap(copy);
    }
    if (flat.length / 2 == FLAT_LIMIT) {
      Hamt<String, @Nullable String> grown = Hamt.empty();
      for (int i = 0; i < flat.length; i += 2) {
        grown = grown.with((String) flat[i], (String) flat[i + 1]);
      }
      return new MdcMap(grown.with(key, value));
    }
    Object[] copy = Arrays.copyOf(flat, flat.length + 2);
    copy[flat.length] = key;
    copy[flat.length + 1] = value;
    return new MdcMap(copy);
  }

  /** {@return this map without {@code key}; {@code this} if it has no such key} */
  MdcMap without(String key) {
    Object[] flat = pairs;
    if (flat == null) {
      Hamt<String, @Nullable String> changed = trie.without(key);
      if (changed == trie) {
        return this;
      }
      return changed.size() <= FLAT_LIMIT / 2 ? flatten(changed) : new MdcMap(changed);
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
    return new MdcMap(copy);
  }

  /** {@return a map of {@code entries}, flat or a trie by their number; a null key refused} */
  static MdcMap of(Map<String, @Nullable String> entries) {
    MdcMap made = EMPTY;
    for (Map.Entry<String, @Nullable String> entry : entries.entrySet()) {
      String key = entry.getKey();
      if (key == null) {
        throw new IllegalArgumentException(
            "contextMap has a null key: MDC keys cannot be null; the MDC is unchanged");
      }
      made = made.with(key, entry.getValue());
    }
    return made;
  }

  private static MdcMap flatten(Hamt<String, @Nullable String> trie) {
    Object[] flat = new Object[2 * trie.size()];
    int i = 0;
    for (Map.Entry<String, @Nullable String> entry : trie) {
      flat[i++] = entry.getKey();
      flat[i++] = entry.getValue();
    }
    return new MdcMap(flat);
  }

  @Override
  public int size() {
    Object[] flat = pairs;
    return flat != null ? flat.length / 2 : trie.size();
  }

  @Override
  public boolean isEmpty() {
    return size() == 0;
  }

  @Override
  public boolean containsKey(@Nullable Object key) {
    if (!(key instanceof String name)) {
      return false;
    }
    Object[] flat = pairs;
    return flat != null ? indexOf(flat, name) >= 0 : trie.containsKey(name);
  }

  @Override
  public @Nullable String get(@Nullable Object key) {
    return getOrDefault(key, null);
  }

  @Override
  public @Nullable String getOrDefault(@Nullable Object key, @Nullable String fallback) {
    if (!(key instanceof String name)) {
      return fallback;
    }
    Object[] flat = pairs;
    if (flat == null) {
      return trie.getOrDefault(name, fallback);
    }
    int at = indexOf(flat, name);
    return at >= 0 ? (String) flat[at + 1] : fallback;
  }

  @Override
  public Set<Map.Entry<String, @Nullable String>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<String, @Nullable String>> iterator() {
        Object[] flat = pairs;
        return flat != null ? new FlatIterator(flat) : trie.iterator();
      }

      @Override
      public int size() {
        return MdcMap.this.size();
      }
    };
  }

  /** Yields the pairs of a flat map as immutable entries; {@code remove} is unsupported. */
  private static final class FlatIterator implements Iterator<Map.Entry<String, @Nullable String>> {
    private final Object[] flat;
    private int next;

    FlatIterator(Object[] flat) {
      this.flat = flat;
    }

    @Override
    public boolean hasNext() {
      return next < flat.length;
    }

    @Override
    public Map.Entry<String, @Nullable String> next() {
      if (next >= flat.length) {
        throw new NoSuchElementException();
      }
      Map.Entry<String, @Nullable String> entry =
          new SimpleImmutableEntry<>((String) flat[next], (String) flat[next + 1]);
      next += 2;
      return entry;
    }
  }
}
