package org.contextvars4j.hamt;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Map} over one {@link Hamt}, wrapped by {@link Hamt#asMap()} to be unmodifiable. The trie is immutable, so the view is a snapshot
 * for free, and {@code get}/{@code containsKey} are trie lookups rather than scans.
 */
final class MapView<K, V> extends AbstractMap<K, V> {
  private final Hamt<K, V> hamt;

  MapView(Hamt<K, V> hamt) {
    this.hamt = hamt;
  }

  @Override
  public int size() {
    return hamt.size();
  }

  @Override
  @SuppressWarnings("unchecked")
  public boolean containsKey(@Nullable Object key) {
    // Keys of another type are simply absent: their equals never matches ours.
    return key != null && hamt.containsKey((K) key);
  }

  @Override
  @SuppressWarnings("unchecked")
  public @Nullable V get(@Nullable Object key) {
    return key == null ? null : hamt.get((K) key);
  }

  @Override
  @SuppressWarnings("unchecked")
  public @Nullable V getOrDefault(@Nullable Object key, @Nullable V fallback) {
    return key == null ? fallback : hamt.getOrDefault((K) key, fallback);
  }

  @Override
  public Set<Map.Entry<K, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<K, V>> iterator() {
        return hamt.iterator();
      }

      @Override
      public int size() {
        return hamt.size();
      }
    };
  }
}
