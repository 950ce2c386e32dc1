package org.qtale.train.pretrain;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.qtale.QtaleException;
import org.qtale.train.nn.CrossEntropyOp;
import org.qtale.train.nn.LlamaParameters;
import org.qtale.train.nn.TrainingModel;
import org.qtale.train.optim.AdamW;
import org.qtale.train.optim.GradientClipping;
import org.qtale.train.optim.LearningRateSchedule;
import org.qtale.tensor.Parallel;

/**
 * Next-token pretraining: per step, sum the gradients of {@code accumulation} micro-batches (each a mean over its
 * counted tokens), clip the global norm, and take one AdamW step on the warm-up + cosine schedule. Every step is a
 * function of the seed and the step number alone, so a run resumed from a checkpoint ends with the same bits as one
 * that never stopped.
 */
public final class Pretrainer {
    private final LlamaParameters params;
    private final TokenDataset data;
    private final PretrainSettings settings;
    private final Parallel parallel;
    private final TrainingModel model;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;

    public Pretrainer(LlamaParameters params, TokenDataset data, PretrainSettings settings, Parallel parallel) {
        this.params = params;
        this.data = data;
        this.settings = settings;
        this.parallel = parallel;
        this.model = new TrainingModel(params, parallel);
        this.optimizer = new AdamW(params.trainable(), 0.9f, 0.95f, 1e-8f, settings.weightDecay());
        this.schedule = new LearningRateSchedule(settings.learningRate(), settings.warmupSteps(), settings.steps(),
                settings.minLrRatio());
    }

    /**
     * Runs the remaining steps; with a checkpoint directory, resumes from the checkpoint there if one exists and writes
     * one every {@code checkpointEvery} steps.
     */
    public PretrainResult run(Path checkpointDir, PretrainListener listener) {
        return run(checkpointDir, Map.of(), listener);
    }

    /**
     * {@link #run(Path, PretrainListener)}, with {@code identity} (what the run trains on: corpus, shape, tokenizer)
     * stored in the checkpoints and checked when resuming.
     */
    public PretrainResult run(Path checkpointDir, Map<String, String> identity, PretrainListener listener) {
        int start = 0;
        if (checkpointDir != null) {
            TrainingCheckpoint.checkUsable(checkpointDir);
        }
        List<Double> losses = new ArrayList<>();
        List<PretrainResult.Evaluation> heldOut = new ArrayList<>();
        if (checkpointDir != null && TrainingCheckpoint.exists(checkpointDir)) {
            TrainingCheckpoint.Progress progress = TrainingCheckpoint.restore(checkpointDir, optimizer, settings, identity);
            start = progress.step();
            losses.addAll(progress.trainLosses());
            heldOut.addAll(progress.heldOut());
        }
        int batch = settings.batch();
        int seqLen = settings.seqLen();
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        long begin = System.nanoTime();
        long trained = 0;
        for (int step = start; step < settings.steps(); step++) {
            params.zeroGrad();
            double loss = 0;
            for (int micro = 0; micro < settings.accumulation(); micro++) {
                data.trainingBatch(settings.seed(), step, micro, batch, seqLen, tokens, targets);
                int counted = CrossEntropyOp.counted(targets, tokens.length);
                float scale = 1f / ((float) counted * settings.accumulation());
                loss += model.lossAndBackward(tokens, targets, batch, seqLen, scale) * scale;
                trained += tokens.length;
            }
            double norm = GradientClipping.clip(optimizer.params(), settings.gradClip());
            if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                throw new QtaleException("Training diverged at step " + (step + 1) + " (loss " + loss + ", gradient norm "
                        + norm + "); lower the learning rate.");
            }
            float lr = schedule.at(step);
            optimizer.step(lr);
            losses.add(loss);
            double seconds = (System.nanoTime() - begin) / 1e9;
            listener.onStep(step + 1, settings.steps(), loss, lr, norm, trained / seconds);
            boolean last = step + 1 == settings.steps();
            if (last || settings.evalEvery() > 0 && (step + 1) % settings.evalEvery() == 0) {
                double held = heldOutLoss();
                if (!Double.isNaN(held)) {
                    heldOut.add(new PretrainResult.Evaluation(step + 1, held));
                    listener.onEvaluation(step + 1, held);
                }
            }
            if (checkpointDir != null && settings.checkpointEvery() > 0 && ((step + 1) % settings.checkpointEvery() == 0 || last)) {
                TrainingCheckpoint.save(checkpointDir, optimizer, new TrainingCheckpoint.Progress(step + 1, losses, heldOut),
                        settings, identity);
                listener.onCheckpoint(step + 1);
            }
        }
        double seconds = (System.nanoTime() - begin) / 1e9;
        return new PretrainResult(List.copyOf(losses), List.copyOf(heldOut), seconds, trained / Math.max(seconds, 1e-9));
    }

    /** Mean loss per token over the first {@code evalWindows} held-out windows; NaN when there are none. */
    public double heldOutLoss() {
        int batch = settings.batch();
        int seqLen = settings.seqLen();
        int windows = data.heldOutWindows(seqLen, settings.evalWindows());
        if (windows == 0) {
            return Double.NaN;
        }
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        double total = 0;
        long counted = 0;
        for (int first = 0; first < windows; first += batch) {
            int rows = Math.min(batch, windows - first);
            data.heldOutBatch(first, rows, seqLen, tokens, targets);
            TokenDataset.ignoreRows(targets, rows, batch, seqLen);
            total += model.loss(tokens, targets, batch, seqLen);
            counted += CrossEntropyOp.counted(targets, tokens.length);
        }
        return total / counted;
    }

    /** The model being trained (its parameters are the current ones). */
    public TrainingModel model() {
        return model;
    }
}
