package org.contextvars4j.kotlin

import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CopyableThreadContextElement
import kotlinx.coroutines.DelicateCoroutinesApi
import kotlinx.coroutines.ExperimentalCoroutinesApi
import org.contextvars4j.Context
import org.contextvars4j.internal.ContextAccess

/**
 * A coroutine context element that runs each coroutine as an asyncio task: in a [Context] of its
 * own, current on whichever thread the coroutine runs, from its start to its end.
 *
 * - A value a coroutine sets ([org.contextvars4j.ContextVar.set], `MDC.put` with
 *   `contextvars4j-logback`, a span made current with `contextvars4j-opentelemetry`) is still
 *   there after every `delay`, `yield` or change of dispatcher, and is never seen by the thread
 *   afterwards.
 * - A child (`launch`, `async`, a `flowOn` upstream) starts from a copy of its parent's context as
 *   it is when the child is started, as asyncio's `create_task` copies the context; what a child
 *   sets never reaches its parent or its siblings.
 * - `withContext` is the same coroutine: its block runs in the same context, and the caller sees
 *   its sets afterwards, as after `await nested()`.
 *
 * Add it to a root coroutine; children inherit a copy:
 * ```
 * runBlocking(ContextElement.copyCurrent()) { ... }
 * val scope = CoroutineScope(Dispatchers.Default + ContextElement.copyCurrent())
 * ```
 * A coroutine without it reads and sets the context of the thread it happens to run on, which
 * another coroutine on that thread sees too, as kotlinx's own thread-local elements document.
 *
 * Thread-safe: kotlinx.coroutines calls it on any thread, also for the same coroutine on two
 * threads at once (the next step starts before the last one's thread has restored its context);
 * no set is lost then, and no exception reaches kotlinx.
 */
@OptIn(ExperimentalCoroutinesApi::class, DelicateCoroutinesApi::class)
public class ContextElement private constructor(
    private val context: Context,
    private val kind: Kind,
) : CopyableThreadContextElement<Any> {

    /** How the element came about, which decides what a coroutine started with it runs in. */
    private enum class Kind {
        /** [copyCurrent]: a copy, so every coroutine started with it runs in a copy of its own. */
        TEMPLATE,

        /** [asContextElement]: the coroutine started with it runs in that very context. */
        GIVEN,

        /** A coroutine's own: its children run in copies. */
        RUNNING,
    }

    /** The key of [ContextElement] in a coroutine context, and its factories. */
    public companion object Key : CoroutineContext.Key<ContextElement> {
        private val ACCESS: ContextAccess = ContextAccess.get()

        /**
         * Returns an element holding a copy of the current context, asyncio's default for a new
         * task: each coroutine started with it (or in a scope made with it) runs in a copy of
         * those values of its own.
         */
        @JvmStatic
        public fun copyCurrent(): ContextElement = ContextElement(Context.copyCurrent(), Kind.TEMPLATE)

        internal fun given(context: Context): ContextElement = ContextElement(context, Kind.GIVEN)
    }

    /** [Key]. */
    override val key: CoroutineContext.Key<ContextElement>
        get() = Key

    /**
     * Makes the coroutine's context current on this thread, before the coroutine runs here.
     * Called by kotlinx.coroutines.
     */
    override fun updateThreadContext(context: CoroutineContext): Any = ACCESS.enterStep(this.context)

    /**
     * Makes the thread's own context current again, after the coroutine ran here. Called by
     * kotlinx.coroutines, with what [updateThreadContext] returned on this thread.
     */
    override fun restoreThreadContext(context: CoroutineContext, oldState: Any) {
        ACCESS.leaveStep(oldState)
    }

    /**
     * The element of a child coroutine: a copy of this coroutine's context as it is now (for an
     * element of [asContextElement], started with it: that context itself).
     */
    override fun copyForChild(): ContextElement =
        when (kind) {
            Kind.GIVEN -> ContextElement(context, Kind.RUNNING)
            Kind.TEMPLATE, Kind.RUNNING -> ContextElement(context.copy(), Kind.RUNNING)
        }

    /**
     * The element of a coroutine started, or a `withContext` block run, with an element given
     * explicitly where this one is inherited: the given one wins, as it would alone.
     */
    override fun mergeForChild(overwritingElement: CoroutineContext.Element): CoroutineContext =
        if (overwritingElement is ContextElement) overwritingElement.copyForChild() else overwritingElement

    /** Names the element and its context. */
    override fun toString(): String = "ContextElement[$context]"
}

/**
 * Returns an element that runs the coroutine started with it in this very context, like asyncio's
 * `create_task(coro, context=ctx)`: its sets are seen in this context afterwards. Its children
 * run in copies, as with [ContextElement.copyCurrent]. One coroutine at a time should run in a
 * context (asyncio refuses two at once; this is not checked here).
 */
public fun Context.asContextElement(): ContextElement = ContextElement.given(this)
