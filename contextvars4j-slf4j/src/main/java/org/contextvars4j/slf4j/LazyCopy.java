package org.contextvars4j.slf4j;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The mutable copy of {@link ContextMDCAdapter#getCopyOfContextMap()}: it reads the MDC's immutable
 * map until its first change, and copies the entries into a {@link HashMap} of its own only then.
 * A log event that takes a copy and only reads it so costs one object, not {@code n} entries.
 *
 * <p>Views ({@code entrySet}, {@code keySet}, {@code values}) are live across that switch: an
 * iterator's {@code remove} and an entry's {@code setValue} make the copy and change it. An
 * iterator over the shared map does not fail fast (the shared map never changes; changes made
 * meanwhile through the map are not seen by it). Serializes as a {@link HashMap}.
 */
final class LazyCopy extends AbstractMap<String, @Nullable String> implements Serializable {
  @Serial private static final long serialVersionUID = 1L;

  /** The MDC's map, until the first change; then {@code null}. */
  private transient @Nullable MdcMap shared;

  /** The copy's own entries, from the first change on. */
  private transient @Nullable HashMap<@Nullable String, @Nullable String> own;

  LazyCopy(MdcMap shared) {
    this.shared = shared;
  }

  /** {@return the copy's own entries, made from the shared map on the first call} */
  private HashMap<@Nullable String, @Nullable String> own() {
    HashMap<@Nullable String, @Nullable String> entries = own;
    if (entries == null) {
      entries = new HashMap<>(shared);
      own = entries;
      shared = null;
    }
    return entries;
  }

  @Override
  public int size() {
    return own != null ? own.size() : shared.size();
  }

  @Override
  public boolean isEmpty() {
    return size() == 0;
  }

  @Override
  public boolean containsKey(@Nullable Object key) {
    if (own != null) {
      return own.containsKey(key);
    }
    return shared.containsKey(key);
  }

  @Override
  public @Nullable String get(@Nullable Object key) {
    if (own != null) {
      return own.get(key);
    }
    return shared.get(key);
  }

  @Override
  public @Nullable String getOrDefault(@Nullable Object key, @Nullable String fallback) {
    if (own != null) {
      return own.getOrDefault(key, fallback);
    }
    return shared.getOrDefault(key, fallback);
  }

  @Override
  public @Nullable String put(@Nullable String key, @Nullable String value) {
    return own().put(key, value);
  }

  @Override
  public @Nullable String remove(@Nullable Object key) {
    return own != null || containsKey(key) ? own().remove(key) : null;
  }

  @Override
  public void putAll(Map<? extends @Nullable String, ? extends @Nullable String> entries) {
    own().putAll(entries);
  }

  @Override
  public void clear() {
    own = new HashMap<>();
    shared = null;
  }

  @Override
  public @Nullable String putIfAbsent(@Nullable String key, @Nullable String value) {
    return own().putIfAbsent(key, value);
  }

  @Override
  public boolean remove(@Nullable Object key, @Nullable Object value) {
    return own().remove(key, value);
  }

  @Override
  public boolean replace(@Nullable String key, @Nullable String oldValue, @Nullable String value) {
    return own().replace(key, oldValue, value);
  }

  @Override
  public @Nullable String replace(@Nullable String key, @Nullable String value) {
    return own().replace(key, value);
  }

  @Override
  public @Nullable String computeIfAbsent(
      @Nullable String key, Function<? super @Nullable String, ? extends @Nullable String> f) {
    return own().computeIfAbsent(key, f);
  }

  @Override
  public @Nullable String computeIfPresent(
      @Nullable String key,
      BiFunction<? super @Nullable String, ? super String, ? extends @Nullable String> f) {
    return own().computeIfPresent(key, f);
  }

  @Override
  public @Nullable String compute(
      @Nullable String key,
      BiFunction<? super @Nullable String, ? super @Nullable String, ? extends @Nullable String> f) {
    return own().compute(key, f);
  }

  @Override
  public @Nullable String merge(
      @Nullable String key,
      String value,
      BiFunction<? super String, ? super String, ? extends @Nullable String> f) {
    return own().merge(key, value, f);
  }

  @Override
  public void replaceAll(
      BiFunction<? super @Nullable String, ? super @Nullable String, ? extends @Nullable String> f) {
    own().replaceAll(f);
  }

  @Override
  public Set<Map.Entry<@Nullable String, @Nullable String>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<@Nullable String, @Nullable String>> iterator() {
        return own != null ? own.entrySet().iterator() : new SharedIterator(shared.entrySet().iterator());
      }

      @Override
      public int size() {
        return LazyCopy.this.size();
      }

      @Override
      public void clear() {
        LazyCopy.this.clear();
      }
    };
  }

  @Serial
  private Object writeReplace() {
    return new HashMap<>(this);
  }

  /** Iterates the shared map; its {@code remove} and its entries' {@code setValue} make the copy. */
  private final class SharedIterator implements Iterator<Map.Entry<@Nullable String, @Nullable String>> {
    private final Iterator<Map.Entry<String, @Nullable String>> entries;
    private @Nullable String last;
    private boolean removable;

    SharedIterator(Iterator<Map.Entry<String, @Nullable String>> entries) {
      this.entries = entries;
    }

    @Override
    public boolean hasNext() {
      return entries.hasNext();
    }

    @Override
    public Map.Entry<@Nullable String, @Nullable String> next() {
      Map.Entry<String, @Nullable String> entry = entries.next();
      last = entry.getKey();
      removable = true;
      return new CopyEntry(entry.getKey(), entry.getValue());
    }

    @Override
    public void remove() {
      if (!removable) {
        throw new IllegalStateException("remove() needs a next() before it, once");
      }
      removable = false;
      own().remove(last);
    }
  }

  /** An entry read from the shared map; {@code setValue} writes through to the copy. */
  private final class CopyEntry extends SimpleEntry<@Nullable String, @Nullable String> {
    @Serial private static final long serialVersionUID = 1L;

    CopyEntry(String key, @Nullable String value) {
      super(key, value);
    }

    @Override
    public @Nullable String setValue(@Nullable String value) {
      own().put(getKey(), value);
      return super.setValue(value);
    }
  }
}
