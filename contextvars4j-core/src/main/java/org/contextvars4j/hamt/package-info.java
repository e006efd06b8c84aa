/**
 * {@link org.contextvars4j.hamt.Hamt}, the persistent hash array mapped trie behind every {@code
 * Context}: {@code O(1)} copies and {@code O(log32 n)} updates that share structure.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j.hamt;

import org.jspecify.annotations.NullMarked;
