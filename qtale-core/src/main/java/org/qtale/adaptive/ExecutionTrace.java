package org.qtale.adaptive;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Which layers ran for which tokens, in the order tokens were processed, and what that saved: execution ratios
 * (overall, per layer, per token; over all layers or only the routed ones), and the KV-cache entries not written.
 */
public final class ExecutionTrace {
    private final int layers;
    private final int startLayer;
    private final List<BitSet> executed = new ArrayList<>();
    private double flops;
    private double denseFlops;

    /** @param startLayer layers below it always run (they count as executed in the "all layers" ratios) */
    public ExecutionTrace(int layers, int startLayer) {
        this.layers = layers;
        this.startLayer = Math.min(startLayer, layers);
    }

    /** Starts the record of the next token; returns its index. */
    public int addToken() {
        executed.add(new BitSet(layers));
        return executed.size() - 1;
    }

    public void record(int token, int layer, boolean ran) {
        executed.get(token).set(layer, ran);
    }

    public boolean executed(int token, int layer) {
        return executed.get(token).get(layer);
    }

    public int tokens() {
        return executed.size();
    }

    public int layers() {
        return layers;
    }

    /** The first routed layer; the layers before it always run. */
    public int startLayer() {
        return startLayer;
    }

    /** Layers that ran for a token. */
    public int layersRun(int token) {
        return executed.get(token).cardinality();
    }

    /** Fraction of (token, layer) pairs that ran, over all layers or only the routed ones. */
    public double executionRatio(boolean routedOnly) {
        long total = (long) tokens() * (layers - (routedOnly ? startLayer : 0));
        return total == 0 ? 1.0 : (double) executions(routedOnly) / total;
    }

    /** The (token, layer) pairs that ran, over all layers or only the routed ones. */
    public long executions(boolean routedOnly) {
        int from = routedOnly ? startLayer : 0;
        long ran = 0;
        for (BitSet b : executed) {
            ran += b.get(from, layers).cardinality();
        }
        return ran;
    }

    /** Fraction of tokens that ran {@code layer}. */
    public double layerRatio(int layer) {
        if (tokens() == 0) {
            return 1.0;
        }
        int ran = 0;
        for (BitSet b : executed) {
            if (b.get(layer)) {
                ran++;
            }
        }
        return (double) ran / tokens();
    }

    /** Fraction of layers a token ran, over all layers or only the routed ones. */
    public double tokenRatio(int token, boolean routedOnly) {
        int from = routedOnly ? startLayer : 0;
        if (layers == from) {
            return 1.0;
        }
        return (double) executed.get(token).get(from, layers).cardinality() / (layers - from);
    }

    /** Adds the floating-point operations one token spent ({@code actual}) and would spend dense ({@code dense}). */
    public void addFlops(double actual, double dense) {
        flops += actual;
        denseFlops += dense;
    }

    /**
     * Operations spent over the dense model's, counting the layers' matrices and the routers (not attention's score
     * products, nor the embedding and output head, which every token pays alike).
     */
    public double flopsRatio() {
        return denseFlops == 0 ? 1.0 : flops / denseFlops;
    }

    /** The operations spent so far (see {@link #flopsRatio}). */
    public double flops() {
        return flops;
    }

    /** The operations the dense model would have spent on the same tokens. */
    public double denseFlops() {
        return denseFlops;
    }

    /** Fraction of KV-cache entries (one per token and layer) that skipped layers did not write. */
    public double kvSavedRatio() {
        return 1.0 - executionRatio(false);
    }
}
