package org.contextvars4j.kotlin

import java.util.UUID
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.assertj.core.api.Assertions.assertThat
import org.contextvars4j.Context
import org.contextvars4j.ContextVar
import org.junit.jupiter.api.Test

/**
 * The five scenarios of the blog post this project grew from, with coroutines for Python's
 * `async def` functions and tasks (`await nested()` is a suspend call; a task is a coroutine
 * started with the element), each on `Dispatchers.Default`, where every suspension may resume on
 * another thread.
 */
class SeedScenariosTest {
    private val ctx: ContextVar<UUID> = ContextVar.named("test_context")
    private val printed = mutableListOf<UUID>()

    private suspend fun nested() {
        yield()
        printed.add(ctx.get())
    }

    private suspend fun nestedThatSets() {
        yield()
        ctx.set(UUID.randomUUID())
        printed.add(ctx.get())
    }

    /** 1: an async function and the two it awaits print the same value. */
    @Test
    fun scenario1TheSameValueAcrossAwaits() = task {
        if (!ctx.isBound()) ctx.set(UUID.randomUUID())
        printed.add(ctx.get())
        nested()
        nested()
        assertThat(printed).hasSize(3).containsOnly(printed[0])
    }

    /** 2: a set inside an awaited call is seen by what runs after it in the same task. */
    @Test
    fun scenario2ASetInAnAwaitedCallIsSeenLater() = task {
        ctx.set(UUID.randomUUID())
        nestedThatSets()
        nested()
        assertThat(printed).hasSize(2)
        assertThat(printed[1]).isEqualTo(printed[0]).isEqualTo(ctx.get())
    }

    /** 3: `copy_ctx.run(nested)` isolates a synchronous call: its set stays in the copy. */
    @Test
    fun scenario3ACopyIsolatesASynchronousCall() = task {
        val original = UUID.randomUUID()
        ctx.set(original)
        val copy = Context.copyCurrent()
        assertThat(copy.get(ctx)).isEqualTo(original)
        copy.run {
            assertThat(ctx.get()).isEqualTo(original)
            ctx.set(UUID.randomUUID())
        }
        assertThat(ctx.get()).isEqualTo(original)
        assertThat(copy.get(ctx)).isNotEqualTo(original)
    }

    /**
     * 4, the pitfall: starting the work inside `copy.run` does not make it run there. The
     * coroutine started inside runs later, in a copy of its parent's context, not in `copy`: it
     * sees neither `copy`'s values nor leaves its set in `copy`.
     */
    @Test
    fun scenario4StartingWorkInsideRunDoesNotRunItThere() = task {
        val original = UUID.randomUUID()
        ctx.set(original)
        val copy = Context.copyCurrent()
        val inCopy = UUID.randomUUID()
        copy.run { ctx.set(inCopy) }
        val work = copy.call<kotlinx.coroutines.Deferred<UUID>, RuntimeException> {
            async { nestedThatSets(); ctx.get() }
        }
        val seenByWork = work.await()
        assertThat(printed).hasSize(1)
        assertThat(copy.get(ctx)).`as`("copy, after the work that was started inside its run").isEqualTo(inCopy)
        assertThat(seenByWork).isNotEqualTo(inCopy)
        assertThat(ctx.get()).isEqualTo(original)
    }

    /** 5, the fix: a task given the copy runs in it; the caller and the next call see the original. */
    @Test
    fun scenario5ATaskGivenTheCopyRunsInIt() = task {
        val original = UUID.randomUUID()
        ctx.set(original)
        val copy = Context.copyCurrent()
        launch(copy.asContextElement()) { nestedThatSets() }.join()
        assertThat(ctx.get()).isEqualTo(original)
        nested()
        assertThat(printed).hasSize(2)
        assertThat(printed[1]).isEqualTo(original)
        assertThat(copy.get(ctx)).isEqualTo(printed[0]).isNotEqualTo(original)
    }

    private fun task(body: suspend CoroutineScope.() -> Unit) {
        runBlocking(Dispatchers.Default + ContextElement.copyCurrent()) { withTimeout(30_000) { body() } }
    }
}
