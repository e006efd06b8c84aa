package org.contextvars4j.kotlin

import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.collect
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.assertj.core.api.Assertions.assertThat
import org.contextvars4j.Context
import org.contextvars4j.ContextVar
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test

/**
 * Each coroutine with a [ContextElement] is an asyncio task: its sets survive suspension and
 * changes of thread, its children start from a copy of its context as it is at their start, and
 * nothing a child sets reaches its parent or a sibling. Two single-thread dispatchers make the
 * thread changes certain, and let the tests look at what each thread holds afterwards.
 */
class TaskSemanticsTest {
    private val threads = TwoThreads()
    private val one = threads.one
    private val threadOne = threads.threadOne
    private val threadTwo = threads.threadTwo

    @AfterEach
    fun threadsHoldNothingAfterwards() {
        threads.assertEmptyAndStop()
        assertThat(VAR.get()).`as`("the test thread's own value").isEqualTo("unset")
    }

    @Test
    fun aSetSurvivesDelayYieldAndDispatcherChanges() = run {
        VAR.set("set")
        delay(1)
        assertThat(VAR.get()).isEqualTo("set")
        yield()
        assertThat(VAR.get()).isEqualTo("set")
        withContext(threadTwo) { assertThat(VAR.get()).isEqualTo("set") }
        assertThat(VAR.get()).isEqualTo("set")
        withContext(Dispatchers.IO) { assertThat(VAR.get()).isEqualTo("set") }
        assertThat(VAR.get()).isEqualTo("set")
    }

    @Test
    fun aChildStartsFromACopyOfItsParentAtItsStart() = run {
        VAR.set("before")
        val child = async(threadTwo) {
            val seen = VAR.get()
            VAR.set("child")
            delay(1)
            seen to VAR.get()
        }
        VAR.set("after")
        assertThat(child.await()).isEqualTo("before" to "child")
        assertThat(VAR.get()).`as`("the parent after its child set").isEqualTo("after")
    }

    @Test
    fun siblingsDoNotSeeEachOthersSets() = run {
        val gate = Channel<Unit>()
        val first = async(threadOne) {
            VAR.set("first")
            gate.receive()
            VAR.get()
        }
        val second = async(threadTwo) {
            VAR.set("second")
            gate.send(Unit)
            VAR.get()
        }
        assertThat(listOf(first, second).awaitAll()).containsExactly("first", "second")
        assertThat(VAR.get()).isEqualTo("unset")
    }

    @Test
    fun withContextIsTheSameTaskItsSetsAreSeenAfterwards() = run {
        withContext(threadTwo) { VAR.set("dispatched") }
        assertThat(VAR.get()).isEqualTo("dispatched")
        withContext(kotlinx.coroutines.CoroutineName("undispatched")) { VAR.set("undispatched") }
        assertThat(VAR.get()).isEqualTo("undispatched")
        withContext(kotlinx.coroutines.CoroutineName("undispatched, suspending")) {
            VAR.set("undispatched, suspended")
            withContext(threadTwo) { yield() }
        }
        assertThat(VAR.get()).isEqualTo("undispatched, suspended")
    }

    @Test
    fun aTokenResetsTheVariableAfterASuspensionOnAnotherThread() = run {
        VAR.set("outer")
        val token = VAR.set("inner")
        withContext(threadTwo) { yield() }
        VAR.reset(token)
        assertThat(VAR.get()).isEqualTo("outer")
    }

    @Test
    fun flowOnUpstreamSeesTheCollectorsValues() = run {
        VAR.set("collector")
        val seen = flow {
            emit(VAR.get())
            yield()
            emit(VAR.get())
        }.map { it + "/" + VAR.get() }.flowOn(threadTwo).toList()
        assertThat(seen).containsExactly("collector/collector", "collector/collector")
        assertThat(VAR.get()).isEqualTo("collector")
    }

    @Test
    fun aFailingOrCancelledChildLeavesItsParentsValuesUntouched() = run {
        VAR.set("parent")
        val failed = runCatching {
            coroutineScope {
                launch(threadTwo) {
                    VAR.set("failing child")
                    yield()
                    throw IllegalStateException("the child fails")
                }
            }
        }
        assertThat(failed.exceptionOrNull()).hasMessage("the child fails")
        assertThat(VAR.get()).isEqualTo("parent")
        val cancelled = launch(threadTwo) {
            VAR.set("cancelled child")
            delay(60_000)
        }
        yield()
        cancelled.cancel()
        cancelled.join()
        assertThat(VAR.get()).isEqualTo("parent")
    }

    @Test
    fun asContextElementRunsTheCoroutineInThatContext() = run {
        val context = Context()
        CoroutineScope(threadTwo).launch(context.asContextElement()) {
            VAR.set("in the given context")
            yield()
        }.join()
        assertThat(context.get(VAR)).isEqualTo("in the given context")
        assertThat(VAR.get()).isEqualTo("unset")
    }

    @Test
    fun aCoroutineWithoutTheElementUsesTheThreadsOwnContext() {
        // kotlinx's own thread-local elements document the same: without the element, a value
        // set by a coroutine stays on the thread, where the next coroutine on it sees it.
        val token = runBlocking(threadOne) { VAR.set("left on the thread") }
        val seen = runBlocking(threadOne) { VAR.get() }
        assertThat(seen).isEqualTo("left on the thread")
        one.submit { VAR.reset(token) }.get(10, TimeUnit.SECONDS)
    }

    private fun run(body: suspend CoroutineScope.() -> Unit) {
        runBlocking(ContextElement.copyCurrent() + threadOne) { withTimeout(30_000) { body() } }
    }

    companion object {
        private val VAR: ContextVar<String> = ContextVar.named("var", "unset")
    }
}
