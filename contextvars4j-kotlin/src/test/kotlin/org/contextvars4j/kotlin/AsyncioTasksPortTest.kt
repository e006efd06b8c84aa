package org.contextvars4j.kotlin

import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.assertj.core.api.Assertions.assertThat
import org.contextvars4j.Context
import org.contextvars4j.ContextVar
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.EnumSource

/**
 * asyncio's `test_tasks` context cases (`test_context_1` to `test_context_6`, CPython's
 * Lib/test/test_asyncio/test_tasks.py), case by case, with coroutines for asyncio's tasks: each
 * on an event loop of one thread (asyncio's model: the tasks interleave on it) and on
 * `Dispatchers.Default` (the tasks run in parallel and hop threads).
 */
class AsyncioTasksPortTest {

    /** `test_context_1`: a subtask sees the context at its creation; its set stays its own. */
    @ParameterizedTest
    @EnumSource(Loop::class)
    fun testContext1(loop: Loop): Unit = runUntilComplete(loop) {
        val cvar = ContextVar.named("cvar", "nope")
        val sub: suspend () -> Unit = {
            delay(10)
            assertThat(cvar.get()).isEqualTo("nope")
            cvar.set("something else")
        }
        assertThat(cvar.get()).isEqualTo("nope")
        val subtask = launch { sub() }
        cvar.set("yes")
        assertThat(cvar.get()).isEqualTo("yes")
        subtask.join()
        assertThat(cvar.get()).isEqualTo("yes")
    }

    /**
     * `test_context_2`: a future's done callback runs in a copy of the context where it was
     * added and cannot pollute the task's; the task keeps its values across its awaits. A
     * `CompletableDeferred`'s `invokeOnCompletion` handler is asyncio's done callback; kotlinx
     * runs it on the completing thread, in that thread's context, so the handler runs in a copy
     * of the context it was added in, as asyncio's `add_done_callback` does.
     */
    @ParameterizedTest
    @EnumSource(Loop::class)
    fun testContext2(loop: Loop): Unit = runUntilComplete(loop) {
        val cvar = ContextVar.named("cvar", "nope")
        assertThat(cvar.get()).isEqualTo("nope")
        for (j in 0 until 2) {
            val fut = CompletableDeferred<Unit>()
            val added = Context.copyCurrent()
            fut.invokeOnCompletion { added.copy().run { cvar.set("something else") } }
            cvar.set("yes$j")
            launch { fut.complete(Unit) }
            fut.await()
            assertThat(cvar.get()).isEqualTo("yes$j")
            for (i in 0 until 3) {
                cvar.set("yes$i-$j")
                delay(1)
                assertThat(cvar.get()).isEqualTo("yes$i-$j")
            }
        }
    }

    /** `test_context_3`: 100 tasks in parallel, each setting the variable across its sleeps. */
    @ParameterizedTest
    @EnumSource(Loop::class)
    fun testContext3(loop: Loop) {
        val cvar = ContextVar.named("cvar", -1)
        val seed = System.nanoTime()
        val random = Random(seed)
        val sleeps = List(100) { List(10) { random.nextLong(1, 5) } }
        val starts = List(100) { random.nextInt(0, 11) }
        runUntilComplete(loop) {
            val tasks = (0 until 100).map { t ->
                async {
                    val num = starts[t]
                    for (i in 0 until 10) {
                        cvar.set(num + i)
                        delay(sleeps[t][i])
                        assertThat(cvar.get()).`as`("task %d, step %d (seed %d)", t, i, seed).isEqualTo(num + i)
                    }
                }
            }
            tasks.awaitAll()
        }
        assertThat(cvar.get()).isEqualTo(-1)
    }

    /**
     * `test_context_4`, `_5` and `_6` (`Task(coro, context=ctx)`, `asyncio.create_task(coro,
     * context=ctx)`, `loop.create_task(coro, context=ctx)`): each is `launch` with
     * `ctx.asContextElement()`; the tasks run in that very context, one after the other, and
     * their sets are seen in it: `[None, 1, 2]`.
     */
    @ParameterizedTest
    @EnumSource(Loop::class)
    fun testContext4to6(loop: Loop) {
        val cvar = ContextVar.named<Int?>("cvar")
        val ret = runUntilComplete(loop) {
            val coro: suspend (Int) -> Unit = { value ->
                yield()
                cvar.set(value)
            }
            val ret = mutableListOf<Int?>()
            val ctx = Context.copyCurrent()
            ret.add(ctx.getOrDefault(cvar, null))
            launch(ctx.asContextElement()) { coro(1) }.join()
            ret.add(ctx.getOrDefault(cvar, null))
            launch(ctx.asContextElement()) { coro(2) }.join()
            ret.add(ctx.getOrDefault(cvar, null))
            ret
        }
        assertThat(ret).containsExactly(null, 1, 2)
    }

    /** Where the tasks run. */
    enum class Loop {
        /** asyncio's model: one event loop thread, on which the tasks interleave. */
        ONE_EVENT_LOOP_THREAD,

        /** In parallel, hopping threads. */
        DISPATCHERS_DEFAULT,
    }

    private fun <T> runUntilComplete(loop: Loop, main: suspend CoroutineScope.() -> T): T {
        val thread = Executors.newSingleThreadExecutor { Thread(it, "event-loop") }
        try {
            val dispatcher: CoroutineDispatcher = when (loop) {
                Loop.ONE_EVENT_LOOP_THREAD -> thread.asCoroutineDispatcher()
                Loop.DISPATCHERS_DEFAULT -> Dispatchers.Default
            }
            return runBlocking(dispatcher + ContextElement.copyCurrent()) { withTimeout(30_000) { main() } }
        } finally {
            thread.shutdown()
            assertThat(thread.awaitTermination(10, TimeUnit.SECONDS)).isTrue()
        }
    }
}
