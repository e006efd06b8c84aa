/**
 * Context variables: Python's {@code contextvars} (PEP 567) for Java.
 *
 * <p>A {@link org.contextvars4j.ContextVar} holds a value per {@link org.contextvars4j.Context}; a
 * thread always runs in exactly one current context; {@link org.contextvars4j.Context#copyCurrent()}
 * snapshots it in constant time, and {@link org.contextvars4j.Context#run(Runnable)} runs work in a
 * snapshot, so that what the work sets stays with it. {@link org.contextvars4j.Token}s undo a set.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j;

import org.jspecify.annotations.NullMarked;
