// The labeler's soulbound badge: level and the dataset CIDs it certifies, read from the badge contract
// (level, tokenURI) and the escrow's settlement events; the server checks the metadata's CID.
import type { PositionsView } from './chainApi.ts'
import { short } from './format.ts'

export function BadgeCard({ p }: { p: PositionsView }) {
  const b = p.badge
  return (
    <section className="card badge-card" data-testid="badge-card" aria-label="Your badge">
      <h2>Your badge</h2>
      {!b ? (
        <p className="muted" data-testid="no-badge">
          {p.campaigns.some((c) => c.slashed)
            ? 'No badge: the labeling service burns the badge of a labeler slashed for proven fraud.'
            : 'No badge yet: the labeling service mints one when a settlement first credits your work.'}
        </p>
      ) : (
        <div className="row start">
          <div className={`medal level${b.level}`} aria-hidden="true">
            {b.level}
          </div>
          <div className="grow">
            <div data-testid="badge-level">
              <b>{b.levelName}</b> · level {b.level} <span className="small muted">soulbound token #{short(BigInt(b.tokenId).toString(16).padStart(40, '0').replace(/^/, '0x'), 4)}</span>
            </div>
            <div className="small muted">
              {p.totalAccepted} accepted labels · mean quality {p.avgQualityBps / 100}% · {p.settlements} settlements
            </div>
            <div className="small mono wrap" data-testid="badge-uri">
              {b.tokenURI}{' '}
              <span className={`chip ${b.metadataVerified ? 'ok' : 'soft'}`}>{b.metadataVerified ? 'metadata matches the chain' : 'metadata older than the latest settlement'}</span>
            </div>
            <div className="small">Datasets certified:</div>
            <ul className="cids" data-testid="badge-datasets">
              {b.datasets.map((cid) => (
                <li key={cid} className="mono small wrap">
                  {cid}
                </li>
              ))}
              {!b.datasets.length ? <li className="muted small">none recorded</li> : null}
            </ul>
          </div>
        </div>
      )}
    </section>
  )
}
