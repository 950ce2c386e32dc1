package org.qtale.eval;

import org.qtale.adaptive.ExecutionTrace;

/** Layer executions and operations summed over every sequence a task ran. */
final class ExecutionTotals {
    long tokens;
    long ran;
    long layerSlots;
    long routedRan;
    long routedSlots;
    double flops;
    double denseFlops;

    void add(ExecutionTrace trace, int sequenceTokens) {
        tokens += sequenceTokens;
        if (trace == null) {
            return;
        }
        ran += trace.executions(false);
        routedRan += trace.executions(true);
        layerSlots += (long) trace.tokens() * trace.layers();
        routedSlots += (long) trace.tokens() * (trace.layers() - trace.startLayer());
        flops += trace.flops();
        denseFlops += trace.denseFlops();
    }

    double executionRatio(boolean routedOnly) {
        long slots = routedOnly ? routedSlots : layerSlots;
        return slots == 0 ? 1.0 : (double) (routedOnly ? routedRan : ran) / slots;
    }

    double flopsRatio() {
        return denseFlops == 0 ? 1.0 : flops / denseFlops;
    }
}
