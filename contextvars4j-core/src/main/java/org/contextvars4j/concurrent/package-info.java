/**
 * Propagation of {@link org.contextvars4j.Context}s to where Java work really runs: executors,
 * scheduled tasks, {@link java.util.concurrent.CompletableFuture} stages and threads, by asyncio's
 * rule: <b>a unit of asynchronous work runs in a copy of the context that was current when the
 * work was created; every piece of that work runs inside it; nothing it sets leaks out.</b>
 *
 * <ul>
 *   <li>{@link org.contextvars4j.concurrent.ContextExecutors} wraps {@code Executor}, {@code
 *       ExecutorService} and {@code ScheduledExecutorService}: every task runs in a copy of the
 *       submitter's context.
 *   <li>{@link org.contextvars4j.concurrent.ContextFutures} makes {@code CompletableFuture}s whose
 *       dependent stages run in a copy of the context current where each stage was attached.
 *   <li>{@link org.contextvars4j.concurrent.ContextThreads} starts platform and virtual threads in
 *       a copy of the starter's context.
 * </ul>
 *
 * <p>Capturing is {@link org.contextvars4j.Context#copyCurrent()}: constant time, whatever the
 * number of variables.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j.concurrent;

import org.jspecify.annotations.NullMarked;
