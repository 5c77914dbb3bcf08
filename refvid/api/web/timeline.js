// The engine's plan as a timeline: one block per shot, as wide as the shot is long, with the
// reference it shows, its framing, camera move and the transition into it.

function words(value) {
  return String(value ?? "").replaceAll("_", " ");
}

function seconds(value) {
  return `${Number(value).toFixed(1)} s`;
}

/** Shots of any engine's plan: the motion engine lists them; otherwise the cut times do. */
function shotsOf(plan) {
  const duration = plan.frame_count / plan.fps;
  if (Array.isArray(plan.shots) && plan.shots.length) {
    return plan.shots.map((shot) => ({
      image: shot.image,
      start: shot.start_s ?? shot.start_frame / plan.fps,
      end: shot.end_s ?? shot.end_frame / plan.fps,
      framing: shot.framing,
      move: shot.move,
      transition: shot.transition_in,
      transitionFrames: shot.transition_frames,
      text: shot.text,
    }));
  }
  const cuts = [0, ...(plan.cut_times || []), duration];
  return cuts.slice(0, -1).map((start, i) => ({ image: null, start, end: cuts[i + 1] }));
}

function transitionLabel(shot, fps) {
  if (!shot.transition || shot.transition === "none") return "";
  const frames = shot.transitionFrames ? ` ${(shot.transitionFrames / fps).toFixed(2)} s` : "";
  return `${words(shot.transition)}${frames}`;
}

/** Draw `plan` into the <ol> `list`; `thumbOf(n)` gives reference n's thumbnail URL. */
export function renderTimeline(list, plan, thumbOf) {
  const shots = shotsOf(plan);
  const total = plan.frame_count / plan.fps;
  list.replaceChildren(
    ...shots.map((shot, i) => {
      const li = document.createElement("li");
      li.className = "shot";
      li.style.flexGrow = String(Math.max(0.01, shot.end - shot.start));
      li.style.flexBasis = "0";
      const transition = transitionLabel(shot, plan.fps);
      const thumb = document.createElement("div");
      thumb.className = "shot-thumb";
      const src = shot.image ? thumbOf(shot.image) : "";
      if (src) {
        const img = document.createElement("img");
        img.src = src;
        img.alt = `reference ${shot.image}`;
        thumb.append(img);
      }
      if (shot.image) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = `@${shot.image}`;
        thumb.append(tag);
      }
      const title = document.createElement("p");
      title.className = "shot-title";
      const when = document.createElement("span");
      when.className = "shot-time";
      when.textContent = `${shot.start.toFixed(1)}–${seconds(shot.end)}`;
      title.append(`Shot ${i + 1} `, when);
      const facts = document.createElement("p");
      facts.className = "shot-facts";
      facts.textContent = [words(shot.framing), words(shot.move)].filter(Boolean).join(" · ");
      li.append(thumb, title, facts);
      if (transition) {
        const t = document.createElement("p");
        t.className = "shot-in";
        t.textContent = `in: ${transition}`;
        t.title = `Transition into shot ${i + 1}: ${transition}`;
        li.append(t);
      }
      li.setAttribute(
        "aria-label",
        `Shot ${i + 1}, ${seconds(shot.start)} to ${seconds(shot.end)}` +
          (shot.image ? `, reference ${shot.image}` : "") +
          (facts.textContent ? `, ${facts.textContent}` : "") +
          (transition ? `, enters with ${transition}` : ""),
      );
      if (shot.text) li.title = `“${shot.text}”`;
      return li;
    }),
  );
  list.dataset.shots = String(shots.length);
  list.setAttribute("aria-label", `${shots.length} shots over ${seconds(total)}`);
  return shots.length;
}

/** One-line facts under the timeline: seed, grade, amplitude, music, warnings. */
export function planFacts(plan) {
  const facts = [`${plan.width}×${plan.height}`, `${plan.frame_count} frames`, `seed ${plan.seed}`];
  if (plan.movement_amplitude) facts.push(`movement ${plan.movement_amplitude}`);
  if (plan.grade && plan.grade !== "none") facts.push(`grade ${words(plan.grade)}`);
  if (plan.music) {
    facts.push(`music: ${plan.music.mood}, ${plan.music.tempo_bpm} bpm, ${plan.music.key}`);
  }
  return { facts, warnings: plan.warnings || [], note: plan.note || "" };
}
