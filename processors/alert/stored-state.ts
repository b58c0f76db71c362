// A service's alert state as the services store keeps it (schemas/stored-service-alert.avsc): Avro has no
// tagged unions of records, so each rule's episode is one record with the fields of its phase set and
// the others null. The minutes are stored as they are (service-minutes.ts uses the generated type).
import type { StoredEpisode, StoredServiceAlert } from '../../runtime/index.ts';
import type { EpisodeState } from './episodes.ts';
import type { ServiceAlertState } from './judge-service.ts';

const NOT_SET = {
  firstBad: null,
  badMinutes: null,
  alertId: null,
  episodeStart: null,
  goodMinutes: null,
  reference: null,
};

export function toStored(state: ServiceAlertState): StoredServiceAlert {
  const episodes = Object.fromEntries(
    Object.entries(state.episodes).map(([rule, episode]) => [rule, storedEpisode(episode)]),
  );
  return { minutes: state.minutes, episodes };
}

/** A new object throughout: the store keeps the stored one, to put back if the record is undone. */
export function fromStored(stored: StoredServiceAlert): ServiceAlertState {
  const { minutes, episodes } = structuredClone(stored);
  return {
    minutes,
    episodes: Object.fromEntries(
      Object.entries(episodes).map(([rule, episode]) => [rule, episodeState(episode)]),
    ),
  };
}

function storedEpisode(episode: EpisodeState): StoredEpisode {
  if (episode.phase === 'ok') return { ...NOT_SET, phase: 'ok' };
  const reference = episode.reference ?? null;
  if (episode.phase === 'pending')
    return {
      ...NOT_SET,
      phase: 'pending',
      firstBad: episode.firstBad,
      badMinutes: episode.badMinutes,
      reference,
    };
  const { alertId, episodeStart, goodMinutes } = episode;
  return { ...NOT_SET, phase: 'firing', alertId, episodeStart, goodMinutes, reference };
}

function episodeState(stored: StoredEpisode): EpisodeState {
  const reference = stored.reference === null ? {} : { reference: stored.reference };
  if (stored.phase === 'pending')
    return {
      phase: 'pending',
      firstBad: stored.firstBad ?? 0,
      badMinutes: stored.badMinutes ?? 0,
      ...reference,
    };
  if (stored.phase === 'firing')
    return {
      phase: 'firing',
      alertId: stored.alertId ?? '',
      episodeStart: stored.episodeStart ?? 0,
      goodMinutes: stored.goodMinutes ?? 0,
      ...reference,
    };
  return { phase: 'ok' };
}
